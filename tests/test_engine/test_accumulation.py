"""Gradient accumulation as the official SimMIM: the lr scaling that counts the accumulation
steps (simmim_mm/engine/lr_scaling.py) and the clipping after every micro-batch
(AnyDeviceAmpOptimWrapper)."""
import logging
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from torch import nn

from simmim_mm.engine.lr_scaling import scale_lr
from simmim_mm.engine.optimizers import AnyDeviceAmpOptimWrapper

from conftest import REPO_ROOT

PRETRAIN = osp.join(REPO_ROOT, 'configs', 'pretrain')
COSINE = osp.join(PRETRAIN, 'simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py')
STEP = osp.join(PRETRAIN, 'simmim_swin-base-w6_16xb128-amp-step-800e_in1k-192px.py')


def fake_runner(cfg, batch_size, world_size=1):
    return SimpleNamespace(
        _train_dataloader=dict(batch_size=batch_size),
        world_size=world_size,
        param_schedulers=cfg.param_scheduler,
        logger=logging.getLogger('test_accumulation'))


def scaled(cfg, batch_size, steps, world_size=1):
    model = nn.Linear(2, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.optim_wrapper.optimizer.lr)
    wrapper = OptimWrapper(optimizer, accumulative_counts=steps)
    result = scale_lr(fake_runner(cfg, batch_size, world_size), wrapper, cfg.auto_scale_lr)
    assert optimizer.param_groups[0]['lr'] == pytest.approx(result['lr'], rel=1e-12)
    return result


def test_official_rule_with_accumulation(caplog):
    """Swin-B 100e: base 2e-4, warmup 1e-6, min 1e-5 per 512 images of total batch; the
    official code with 1 GPU x batch 2 x 4 accumulation steps: total batch 8."""
    cfg = Config.fromfile(COSINE)
    assert cfg.auto_scale_lr.base_batch_size == 2048 and cfg.auto_scale_lr.enable
    with caplog.at_level(logging.INFO, logger='test_accumulation'):
        result = scaled(cfg, batch_size=2, steps=4)
    total = 1 * 2 * 4
    assert result['total_batch'] == total
    assert result['lr'] == pytest.approx(cfg.optim_wrapper.optimizer.lr * total / 2048)
    assert result['lr'] == pytest.approx(2e-4 * total / 512)
    assert result['warmup_lr'] == pytest.approx(1e-6 * total / 512)
    assert result['min_lr'] == pytest.approx(1e-5 * total / 512)
    line = caplog.records[-1].getMessage()
    assert f'lr {2e-4 * total / 512:.6g}, warmup start lr {1e-6 * total / 512:.6g}' in line
    assert f'min lr {1e-5 * total / 512:.6g} for a total batch of 8' in line
    assert '= 1 process x 2 per process x 4 accumulation steps' in line


def test_multistep_and_processes():
    """Swin-B 800e: base 1e-4, warmup 5e-7, min = lr x 0.1 (one milestone); 4 processes x
    batch 16 x 2 steps."""
    cfg = Config.fromfile(STEP)
    result = scaled(cfg, batch_size=16, steps=2, world_size=4)
    total = 4 * 16 * 2
    assert result['lr'] == pytest.approx(1e-4 * total / 512)
    assert result['warmup_lr'] == pytest.approx(5e-7 * total / 512)
    assert result['min_lr'] == pytest.approx(1e-4 * total / 512 * 0.1)


def test_without_accumulation_matches_mmengine():
    cfg = Config.fromfile(COSINE)
    assert scaled(
        cfg, batch_size=128, steps=1,
        world_size=16)['lr'] == pytest.approx(cfg.optim_wrapper.optimizer.lr)


def test_auto_scale_off_keeps_lr():
    cfg = Config.fromfile(COSINE)
    cfg.auto_scale_lr.enable = False
    result = scaled(cfg, batch_size=2, steps=4)
    assert result['lr'] == pytest.approx(cfg.optim_wrapper.optimizer.lr)
    assert result['ratio'] == 1.0


def official_loop(model, batches, steps, max_norm, lr):
    """The official SimMIM train_one_epoch with ACCUMULATION_STEPS > 1, fp32."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    optimizer.zero_grad()
    for idx, (x, y) in enumerate(batches):
        loss = nn.functional.mse_loss(model(x), y) / steps
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        if (idx + 1) % steps == 0:
            optimizer.step()
            optimizer.zero_grad()


def wrapper_loop(model, batches, steps, max_norm, lr):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    wrapper = AnyDeviceAmpOptimWrapper(
        optimizer=optimizer,
        accumulative_counts=steps,
        clip_grad=dict(max_norm=max_norm),
        dtype='float32')
    wrapper.initialize_count_status(model, 0, len(batches))
    for x, y in batches:
        with wrapper.optim_context(model):
            loss = nn.functional.mse_loss(model(x), y)
        wrapper.update_params(loss)
    return wrapper


def make_problem(seed=0):
    gen = torch.Generator().manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    for p in model.parameters():
        p.data = torch.randn(p.shape, generator=gen)
    batches = [(torch.randn(5, 4, generator=gen), 3 * torch.randn(5, 3, generator=gen))
               for _ in range(12)]
    return model, batches


def test_clips_every_micro_batch_as_official():
    steps, max_norm, lr = 3, 0.5, 0.1
    reference, batches = make_problem()
    ours, _ = make_problem()
    official_loop(reference, batches, steps, max_norm, lr)
    wrapper = wrapper_loop(ours, batches, steps, max_norm, lr)
    assert wrapper.should_sync()  # every micro-batch's gradient is the global one
    for a, b in zip(ours.parameters(), reference.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)

    # the test can tell: MMEngine's clip-once-before-the-step gives other weights
    mmengine_model, _ = make_problem()
    optimizer = torch.optim.SGD(mmengine_model.parameters(), lr=lr, momentum=0.9)
    plain = OptimWrapper(optimizer, accumulative_counts=steps, clip_grad=dict(max_norm=max_norm))
    plain.initialize_count_status(mmengine_model, 0, len(batches))
    for x, y in batches:
        plain.update_params(nn.functional.mse_loss(mmengine_model(x), y))
    assert not torch.allclose(mmengine_model[0].weight, reference[0].weight, atol=1e-4)


def test_no_accumulation_unchanged():
    """accumulative_counts=1: one clip per step, as before (and MMEngine)."""
    ours, batches = make_problem()
    reference, _ = make_problem()
    wrapper = wrapper_loop(ours, batches, 1, 0.5, 0.1)
    assert not wrapper.clips_every_micro_batch
    official_loop(reference, batches, 1, 0.5, 0.1)
    for a, b in zip(ours.parameters(), reference.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_clips_every_micro_batch_with_a_loss_scaler():
    """The fp16 path: the gradients hold loss-scale x the gradient; each partial sum is still
    clipped by its true norm (the CPU GradScaler stands in for CUDA's)."""
    steps, max_norm, lr = 3, 0.5, 0.1
    reference, batches = make_problem()
    ours, _ = make_problem()
    official_loop(reference, batches, steps, max_norm, lr)
    optimizer = torch.optim.SGD(ours.parameters(), lr=lr, momentum=0.9)
    wrapper = AnyDeviceAmpOptimWrapper(
        optimizer=optimizer,
        accumulative_counts=steps,
        clip_grad=dict(max_norm=max_norm),
        dtype='float32')
    wrapper.loss_scaler = torch.amp.GradScaler('cpu', init_scale=2.0**12, growth_interval=2)
    wrapper.initialize_count_status(ours, 0, len(batches))
    for x, y in batches:
        wrapper.update_params(nn.functional.mse_loss(ours(x), y))
    assert wrapper.loss_scaler.get_scale() > 2.0**12  # it stepped (and grew) through the scaler
    for a, b in zip(ours.parameters(), reference.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    grad_norm = wrapper.message_hub.get_scalar('train/grad_norm').current()
    assert grad_norm < 100  # logged unscaled
