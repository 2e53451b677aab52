import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn

from simmim_mm.engine.hooks import NonFiniteLossError


class GoesNaN(BaseModel):
    """Finite loss for its first `good` steps, then NaN forever."""

    def __init__(self, good=3):
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.good = good
        self.calls = 0

    def forward(self, inputs, data_samples=None, mode='loss'):
        self.calls += 1
        loss = self.linear(inputs).pow(2).mean()
        return dict(loss=loss if self.calls <= self.good else loss * float('nan'))


def test_run_stops_after_consecutive_nan_with_a_finite_checkpoint(tmp_path):
    runner = Runner(
        model=GoesNaN(good=3),
        work_dir=str(tmp_path),
        train_dataloader=dict(
            dataset=[dict(inputs=torch.randn(2)) for _ in range(8)],
            sampler=dict(type='InfiniteSampler'),
            batch_size=2,
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(type='AnyDeviceAmpOptimWrapper', optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=False, max_iters=20),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=[dict(type='NonFiniteLossHook', max_consecutive=3)],
        default_scope='simmim_mm')
    with pytest.raises(NonFiniteLossError) as err:
        runner.train()
    message = str(err.value)
    assert '3 consecutive non-finite losses up to iteration 6' in message
    assert 'lower learning rate' in message and 'bfloat16' in message
    weights = runner.model.linear.weight.detach().clone()
    assert torch.isfinite(weights).all()
    saved = torch.load(tmp_path / 'nonfinite_stop_iter_6.pth', weights_only=True)
    assert torch.equal(saved['state_dict']['linear.weight'], weights)
    assert runner.optim_wrapper.skipped_steps == 3
