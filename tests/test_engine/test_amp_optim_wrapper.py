import pytest
import torch
from torch import nn

from simmim_mm.engine.optimizers import amp_optim_wrapper
from simmim_mm.registry import OPTIM_WRAPPERS


def build(model, **kwargs):
    return OPTIM_WRAPPERS.build(
        dict(
            type='AnyDeviceAmpOptimWrapper',
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
            **kwargs))


def train_step(wrapper, model):
    before = model.weight.detach().clone()
    with wrapper.optim_context(model):
        out = model(torch.randn(16, 8))
        loss = out.float().pow(2).mean()
    wrapper.update_params(loss)
    assert not torch.equal(model.weight, before)
    assert torch.isfinite(model.weight).all()
    return out.dtype


@pytest.mark.parametrize('native_bf16,expected', [(True, torch.bfloat16), (False, torch.float32)])
def test_builds_and_trains_on_cpu(monkeypatch, native_bf16, expected):
    """bf16 autocast where the CPU has native bf16, fp32 where it would be emulated."""
    monkeypatch.setattr(amp_optim_wrapper, 'cpu_has_fast_bfloat16', lambda: native_bf16)
    torch.manual_seed(0)
    model = nn.Linear(8, 4)
    wrapper = build(model, clip_grad=dict(max_norm=5.0), dtype='float16')
    assert wrapper.autocast_enabled == native_bf16
    assert train_step(wrapper, model) == expected


def test_state_dict_round_trip():
    wrapper = build(nn.Linear(2, 2))
    state = wrapper.state_dict()
    assert 'loss_scaler' in state
    other = build(nn.Linear(2, 2))
    other.load_state_dict(state)
    assert other.param_groups[0]['lr'] == 0.1


def test_non_finite_loss_skips_the_update_and_is_counted():
    torch.manual_seed(0)
    model = nn.Linear(8, 4)
    wrapper = build(model, clip_grad=dict(max_norm=5.0))
    before = model.weight.detach().clone()
    for bad in (float('nan'), float('inf')):
        loss = model(torch.randn(2, 8)).sum() * bad
        wrapper.update_params(loss)
        assert torch.equal(model.weight, before)
        assert model.weight.grad is None or not model.weight.grad.any()
    assert (wrapper.nonfinite_streak, wrapper.skipped_steps) == (2, 2)
    train_step(wrapper, model)
    assert (wrapper.nonfinite_streak, wrapper.skipped_steps) == (0, 2)


@pytest.mark.parametrize('dtype,expected', [('float32', torch.float32),
                                            ('bfloat16', torch.bfloat16)])
def test_explicit_dtype_overrides_the_cpu_check(monkeypatch, dtype, expected):
    """float32 turns autocast off even with native bf16; bfloat16 is honoured even without."""
    monkeypatch.setattr(amp_optim_wrapper, 'cpu_has_fast_bfloat16', lambda: dtype == 'float32')
    model = nn.Linear(8, 4)
    wrapper = build(model, dtype=dtype)
    assert train_step(wrapper, model) == expected
