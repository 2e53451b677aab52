"""The same SimMIM forward and backward on the CPU and on CUDA, in fp32 with TF32 off, agree
to float32 rounding: the GPU runs the model the CPU tests check."""
import copy

import pytest
import torch

from cuda_helpers import (
    build_simmim,
    cpu_only,  # noqa: F401  overrides tests/conftest.py's: GPUs stay visible
    loss_of,
    requires_cuda,
    simmim_batch,
)


@pytest.fixture
def strict_fp32():
    """TF32 would round matmul / conv inputs to 10 mantissa bits (a 1e-3 relative error)."""
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
             torch.get_float32_matmul_precision())
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision('highest')
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved[:2]
    torch.set_float32_matmul_precision(saved[2])


@requires_cuda
@pytest.mark.parametrize('name', ['swin', 'vit'])
def test_cpu_and_cuda_agree_in_fp32(name, strict_fp32):
    cpu = build_simmim(name).train()
    with torch.no_grad():  # zero-initialised tables and mask tokens would hide mistakes
        for p in cpu.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    gpu = copy.deepcopy(cpu).cuda()
    images, masks = simmim_batch(name)

    losses = {}
    for device, model in (('cpu', cpu), ('cuda', gpu)):
        loss = loss_of(model, images, masks)
        assert loss.dtype == torch.float32 and loss.device.type == device
        loss.backward()
        losses[device] = loss.item()
    assert losses['cuda'] == pytest.approx(losses['cpu'], rel=1e-5)

    for (key, p_cpu), p_gpu in zip(cpu.named_parameters(), gpu.parameters()):
        if p_cpu.grad is None:  # e.g. parameters the masked path never reaches
            assert p_gpu.grad is None, key
            continue
        scale = p_cpu.grad.abs().max().item()
        error = (p_gpu.grad.cpu() - p_cpu.grad).abs().max().item()
        assert error <= 1e-4 * scale + 1e-8, f'{key}: |grad error| {error:.3g} of {scale:.3g}'
