"""AnyDeviceAmpOptimWrapper on CUDA, built as the configs build it (fused AdamW, foreach
clipping): fp16 autocast with dynamic loss scaling, a gradient overflow that is skipped and
lowers the scale, and bf16 autocast."""
import pytest
import torch

from simmim_mm.registry import OPTIM_WRAPPERS

from cuda_helpers import (
    build_simmim,
    cpu_only,  # noqa: F401  overrides tests/conftest.py's: GPUs stay visible
    loss_of,
    requires_cuda,
    simmim_batch,
)

pytestmark = requires_cuda


def make_training(dtype=None, name='swin'):
    model = build_simmim(name).cuda().train()
    wrapper = OPTIM_WRAPPERS.build(
        dict(
            type='AnyDeviceAmpOptimWrapper',
            dtype=dtype,
            optimizer=torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05, fused=True),
            clip_grad=dict(max_norm=5.0, foreach=True)))
    return model, wrapper, simmim_batch(name)


def step(model, wrapper, batch, seen_dtypes=None):
    handle = None
    if seen_dtypes is not None:  # the dtype a linear layer computes in under autocast
        linear = next(m for m in model.backbone.modules() if isinstance(m, torch.nn.Linear))
        handle = linear.register_forward_hook(lambda m, i, out: seen_dtypes.add(out.dtype))
    with wrapper.optim_context(model):
        loss = loss_of(model, *batch)
    wrapper.update_params(loss)
    if handle is not None:
        handle.remove()
    return loss.item()


def weights(model):
    return [p.detach().clone() for p in model.parameters()]


def unchanged(model, before):
    return all(torch.equal(p, b) for p, b in zip(model.parameters(), before))


@pytest.mark.parametrize(
    'dtype,expected', [(None, torch.float16), ('bfloat16', torch.bfloat16)],
    ids=['fp16-default', 'bf16'])
def test_autocast_steps_train(dtype, expected):
    """The configs' default on a GPU is the official fp16 + dynamic loss scaling; bf16 when
    asked. Either way: the layers run in that dtype and a few steps on one batch learn it."""
    if expected == torch.bfloat16 and not torch.cuda.is_bf16_supported():
        pytest.skip('this GPU has no bf16')
    model, wrapper, batch = make_training(dtype)
    with torch.no_grad():
        fp32_loss = loss_of(model, *batch).item()
    assert wrapper.loss_scaler.is_enabled()
    seen = set()
    losses = [step(model, wrapper, batch, seen) for _ in range(10)]
    assert seen == {expected}
    assert all(torch.isfinite(torch.tensor(losses)))
    assert losses[0] == pytest.approx(fp32_loss, rel=2e-2)  # same model, lower precision
    assert losses[-1] < 0.9 * losses[0]
    assert torch.isfinite(torch.cat([p.flatten() for p in model.parameters()])).all()
    assert wrapper.skipped_steps == 0


def test_fp16_overflow_is_skipped_and_lowers_the_scale():
    """An infinite gradient (what an fp16 overflow gives) makes GradScaler skip the step,
    weights and AdamW step count untouched, and halve the scale; training then goes on."""
    model, wrapper, batch = make_training()
    step(model, wrapper, batch)  # one good step first: AdamW has state, scale is settled
    scale = wrapper.loss_scaler.get_scale()
    before = weights(model)
    adam_steps = [s['step'].clone() for s in wrapper.optimizer.state.values()]

    param = model.backbone.patch_embed.projection.weight
    handle = param.register_hook(lambda grad: torch.full_like(grad, float('inf')))
    loss = step(model, wrapper, batch)
    handle.remove()
    assert torch.isfinite(torch.tensor(loss))  # the loss was fine, the gradient was not
    assert unchanged(model, before)
    assert [s['step'] for s in wrapper.optimizer.state.values()] == adam_steps
    assert wrapper.loss_scaler.get_scale() == scale * 0.5

    step(model, wrapper, batch)
    assert not unchanged(model, before)
    assert wrapper.loss_scaler.get_scale() == scale * 0.5  # grows back only after 2000 steps


def test_non_finite_loss_is_skipped_before_scaling():
    """A NaN loss never reaches GradScaler: the wrapper skips it and counts it (what
    NonFiniteLossHook reads), and the scale stays as it was."""
    model, wrapper, batch = make_training()
    step(model, wrapper, batch)
    scale, before = wrapper.loss_scaler.get_scale(), weights(model)
    with wrapper.optim_context(model):
        loss = loss_of(model, *batch) * float('nan')
    wrapper.update_params(loss)
    assert unchanged(model, before)
    assert wrapper.loss_scaler.get_scale() == scale
    assert (wrapper.skipped_steps, wrapper.nonfinite_streak) == (1, 1)
