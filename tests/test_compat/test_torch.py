import os
import pickle

import pytest
import torch
from mmengine.runner import CheckpointLoader

from mmengine.logging import HistoryBuffer

from simmim_mm.checkpoint import mmengine_checkpoint_classes


class _RunsCode:
    """Unpickling this calls os.system: what a hostile checkpoint does."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))


def test_weights_only_is_torch_default_and_refuses_code(tmp_path):
    marker = tmp_path / 'payload-ran'
    path = tmp_path / 'hostile.pth'
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'x': _RunsCode(marker)}, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)
    with pytest.raises(pickle.UnpicklingError):
        CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert not marker.exists()


def test_allowlist_holds_no_callable_that_runs_code():
    names = {getattr(c, '__module__', '') + '.' + getattr(c, '__name__', '')
             for c in mmengine_checkpoint_classes()}
    assert not any(n.startswith(('os.', 'builtins.eval', 'subprocess', 'posix'))
                   for n in names)


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
    assert torch.load(path)['m'] is HistoryBuffer.mean

    torch.save({'m': _ReachesGlobals()}, path)
    with pytest.raises(pickle.UnpicklingError, match='__init__'):
        torch.load(path)


def test_history_buffer_round_trips_with_weights_only(tmp_path):
    buffer = HistoryBuffer()
    for value in (1.0, 2.0, 6.0):
        buffer.update(value)
    path = tmp_path / 'hub.pth'
    torch.save({'buffer': buffer}, path)
    loaded = torch.load(path, weights_only=True)['buffer']
    assert loaded.mean() == 3.0 and loaded.max() == 6.0
