import torch
from torch import nn

from simmim_mm.registry import OPTIM_WRAPPERS


def build(model, **kwargs):
    return OPTIM_WRAPPERS.build(dict(
        type='AnyDeviceAmpOptimWrapper', optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
        **kwargs))


def test_builds_and_trains_in_bfloat16_on_cpu():
    torch.manual_seed(0)
    model = nn.Linear(8, 4)
    wrapper = build(model, clip_grad=dict(max_norm=5.0))
    assert wrapper.cast_dtype == torch.bfloat16
    before = model.weight.detach().clone()
    with wrapper.optim_context(model):
        out = model(torch.randn(16, 8))
        assert out.dtype == torch.bfloat16
        loss = out.float().pow(2).mean()
    wrapper.update_params(loss)
    assert not torch.equal(model.weight, before)
    assert torch.isfinite(model.weight).all()


def test_fp16_request_falls_back_to_bfloat16_on_cpu():
    assert build(nn.Linear(2, 2), dtype='float16').cast_dtype == torch.bfloat16


def test_state_dict_round_trip():
    model = nn.Linear(2, 2)
    wrapper = build(model)
    state = wrapper.state_dict()
    assert 'loss_scaler' in state
    other = build(nn.Linear(2, 2))
    other.load_state_dict(state)
    assert other.param_groups[0]['lr'] == 0.1
