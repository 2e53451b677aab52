"""simmim_mm/compat/torch.py: against a checkpoint that MMEngine's own Runner writes."""
import os
import pickle
import subprocess
import sys

import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader

from simmim_mm.compat.torch import history_buffer_method, mmengine_checkpoint_classes

TORCH = tuple(int(n) for n in torch.__version__.split('+')[0].split('.')[:2])
needs_weights_only_default = pytest.mark.skipif(
    TORCH < (2, 6), reason='torch < 2.6 loads with weights_only=False by default')

# One epoch of a toy model with MMEngine's Runner and its default hooks: the checkpoint a
# resume or `load_from` reads.
MMENGINE_RUN = """
import sys
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner


class Toy(BaseModel):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(inputs)
        return dict(loss=out.pow(2).mean()) if mode == 'loss' else out


Runner(model=Toy(), work_dir=sys.argv[1], default_scope='mmengine',
       train_dataloader=dict(dataset=[dict(inputs=torch.ones(2))] * 4, batch_size=2,
                             sampler=dict(type='DefaultSampler', shuffle=False),
                             collate_fn=dict(type='default_collate')),
       optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
       train_cfg=dict(by_epoch=True, max_epochs=1)).train()
"""


def python(code, *args):
    return subprocess.run([sys.executable, '-c', code, *map(str, args)],
                          capture_output=True,
                          text=True,
                          timeout=300)


@pytest.fixture(scope='module')
def mmengine_checkpoint(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('mmengine_run')
    result = python(MMENGINE_RUN, work_dir)
    assert result.returncode == 0, result.stderr
    return work_dir / 'epoch_1.pth'


@needs_weights_only_default
def test_mmengine_still_cannot_load_its_checkpoint_by_itself(mmengine_checkpoint):
    """If this fails, MMEngine loads its own checkpoints under torch's default and
    allow_mmengine_checkpoints can go (open-mmlab/mmengine#1655)."""
    result = python(
        'import sys\nfrom mmengine.runner import CheckpointLoader\n'
        'CheckpointLoader.load_checkpoint(sys.argv[1], map_location="cpu")', mmengine_checkpoint)
    assert result.returncode != 0
    assert 'HistoryBuffer' in result.stderr and 'UnpicklingError' in result.stderr


def test_allowlist_covers_what_the_checkpoint_needs(mmengine_checkpoint):
    """torch's own list of the globals the file names beyond its defaults (asked in a process
    without simmim_mm's allowlist): all allowed."""
    result = python(
        'import sys, torch\nprint(*torch.serialization.'
        'get_unsafe_globals_in_checkpoint(sys.argv[1]))', mmengine_checkpoint)
    assert result.returncode == 0, result.stderr
    needed = set(result.stdout.split())
    allowed = {f'{c.__module__}.{c.__qualname__}' for c in mmengine_checkpoint_classes()}
    assert needed - allowed <= {'builtins.getattr'}  # bound to history_buffer_method
    assert needed & allowed


def test_mmengine_loads_its_checkpoint_with_the_allowlist(mmengine_checkpoint):
    checkpoint = CheckpointLoader.load_checkpoint(str(mmengine_checkpoint), map_location='cpu')
    buffer = checkpoint['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer) and len(buffer.data[0]) == 2
    assert set(checkpoint['state_dict']) == {'linear.weight', 'linear.bias'}


class _RunsCode:
    """Unpickling this calls os.system: what a hostile checkpoint does."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


@needs_weights_only_default
def test_loading_still_refuses_code_with_the_allowlist(tmp_path):
    marker = tmp_path / 'payload-ran'
    path = tmp_path / 'hostile.pth'
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'x': _RunsCode(marker)}, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)
    with pytest.raises(pickle.UnpicklingError):
        CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert not marker.exists()


class _ReachesGlobals:
    """getattr(HistoryBuffer, '__init__') is the first step of a walk to __globals__."""

    def __reduce__(self):
        return (getattr, (HistoryBuffer, '__init__'))


class _StatisticsMethod:

    def __reduce__(self):
        return (getattr, (HistoryBuffer, 'mean'))


def test_getattr_resolves_only_history_buffer_statistics(tmp_path):
    path = tmp_path / 'ok.pth'
    torch.save({'m': _StatisticsMethod()}, path)
    assert torch.load(path, weights_only=True)['m'] is HistoryBuffer.mean

    torch.save({'m': _ReachesGlobals()}, path)
    with pytest.raises(pickle.UnpicklingError, match='__init__'):
        torch.load(path, weights_only=True)
    with pytest.raises(pickle.UnpicklingError, match='only HistoryBuffer'):
        history_buffer_method(object, 'mean')
