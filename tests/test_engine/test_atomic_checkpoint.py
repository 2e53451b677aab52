"""AtomicCheckpointRunner, AtomicCheckpointHook and RngStateHook in-process, on a toy model:
a checkpoint write that fails half-way leaves nothing under the final name and keeps the
previous checkpoint, and the RNG states survive a weights-only round trip."""
import hashlib
import os
import os.path as osp
import random

import numpy as np
import pytest
import torch
from mmengine.fileio.backends.local_backend import LocalBackend
from mmengine.model import BaseModel

from simmim_mm.engine.hooks import AtomicCheckpointHook
from simmim_mm.engine.rng_state import get_rng_state, set_rng_state
from simmim_mm.engine.runner import AtomicCheckpointRunner


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='loss'):
        return dict(loss=self.linear(inputs).abs().mean())


def make_runner(work_dir, max_keep_ckpts=1, **checkpoint):
    return AtomicCheckpointRunner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=[dict(inputs=torch.ones(2))] * 4,
            batch_size=2,
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=False, max_iters=2),
        default_hooks=dict(
            checkpoint=dict(
                type='AtomicCheckpointHook',
                by_epoch=False,
                interval=1,
                max_keep_ckpts=max_keep_ckpts,
                **checkpoint),
            rng_state=dict(type='RngStateHook')),
        default_scope='simmim_mm',
        log_level='WARNING')


@pytest.fixture
def failing_put(monkeypatch):
    """Checkpoint writes write half of their bytes, then fail (a disk full, a kill)."""

    def put(self, obj, filepath):
        with open(filepath, 'wb') as f:
            f.write(obj[:len(obj) // 2])
        raise OSError('disk full')

    return lambda: monkeypatch.setattr(LocalBackend, 'put', put)


def hidden_files(folder):
    return [name for name in os.listdir(folder) if name.startswith('.')]


def test_failed_write_leaves_no_file_and_keeps_the_previous_one(tmp_path, failing_put):
    runner = make_runner(tmp_path)
    save = dict(save_optimizer=False, save_param_scheduler=False, by_epoch=False)
    runner.save_checkpoint(str(tmp_path), 'ckpt.pth', **save)
    complete = open(tmp_path / 'ckpt.pth', 'rb').read()
    assert torch.load(tmp_path / 'ckpt.pth', weights_only=True)['meta']['iter'] == 1

    failing_put()
    with pytest.raises(OSError, match='disk full'):
        runner.save_checkpoint(str(tmp_path), 'ckpt.pth', **save)
    with pytest.raises(OSError, match='disk full'):
        runner.save_checkpoint(str(tmp_path), 'other.pth', **save)
    assert open(tmp_path / 'ckpt.pth', 'rb').read() == complete
    assert not osp.exists(tmp_path / 'other.pth')
    assert hidden_files(tmp_path) == []


def test_outdated_checkpoint_is_deleted_only_after_the_new_one_is_written(tmp_path, failing_put):
    runner = make_runner(tmp_path, max_keep_ckpts=1)
    runner.train()
    assert sorted(n for n in os.listdir(tmp_path) if n.endswith('.pth')) == ['iter_2.pth']
    hook = next(h for h in runner.hooks if isinstance(h, AtomicCheckpointHook))
    pointer = open(tmp_path / 'last_checkpoint').read()
    assert pointer == osp.join(str(tmp_path), 'iter_2.pth')

    failing_put()
    runner.train_loop._iter = 2  # as if iteration 3 had run
    with pytest.raises(OSError, match='disk full'):
        hook.after_train_iter(runner, 2)
    # MMEngine's CheckpointHook would have deleted iter_2.pth before the failed write
    assert torch.load(tmp_path / 'iter_2.pth', weights_only=True)['meta']['iter'] == 2
    assert not osp.exists(tmp_path / 'iter_3.pth')
    assert open(tmp_path / 'last_checkpoint').read() == pointer


def test_previous_best_is_deleted_only_after_the_new_best_is_written(tmp_path, failing_put):
    runner = make_runner(tmp_path, save_best='acc', rule='greater')
    runner.train()
    hook = next(h for h in runner.hooks if isinstance(h, AtomicCheckpointHook))

    def best_files():
        return sorted(n for n in os.listdir(tmp_path) if n.startswith('best_'))

    hook.after_val_epoch(runner, dict(acc=0.5))
    runner.train_loop._iter = 3  # a later, better evaluation replaces it
    hook.after_val_epoch(runner, dict(acc=0.7))
    assert best_files() == ['best_acc_iter_3.pth']

    failing_put()
    runner.train_loop._iter = 4  # an even better one whose write fails
    with pytest.raises(OSError, match='disk full'):
        hook.after_val_epoch(runner, dict(acc=0.9))
    # MMEngine's CheckpointHook would have deleted it before the failed write
    assert best_files() == ['best_acc_iter_3.pth']
    assert torch.load(tmp_path / 'best_acc_iter_3.pth', weights_only=True)['meta']['iter'] == 3


def test_published_copy_is_named_after_its_own_sha256(tmp_path):
    runner = make_runner(tmp_path, published_keys=['meta', 'state_dict'])
    runner.train()
    published = [n for n in os.listdir(tmp_path) if n.startswith('iter_2-')]
    assert len(published) == 1 and hidden_files(tmp_path) == []
    path = tmp_path / published[0]
    # what a download check (model zoo, OpenMMLab file names) computes from the file
    assert hashlib.sha256(path.read_bytes()).hexdigest()[:8] == published[0][7:15]
    assert set(torch.load(path, weights_only=True)) == {'meta', 'state_dict'}


def test_stale_temporary_files_are_removed_when_training_starts(tmp_path):
    stale = tmp_path / '.iter_8.pth.12345.tmp'
    stale.write_bytes(b'half a checkpoint')
    (tmp_path / '.keep.tmp').write_bytes(b'not ours')
    make_runner(tmp_path).train()
    assert not stale.exists()
    assert (tmp_path / '.keep.tmp').exists()


def test_checkpoints_hold_rng_states_readable_with_weights_only(tmp_path):
    runner = make_runner(tmp_path)
    runner.train()
    state = torch.load(tmp_path / 'iter_2.pth', weights_only=True)['rng_state']
    assert set(state) >= {'python', 'numpy', 'torch'}


def test_rng_state_round_trip(tmp_path):
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    torch.save(get_rng_state(), tmp_path / 'rng.pth')
    draws = random.random(), np.random.rand(3).tolist(), torch.rand(3).tolist()

    random.seed(2), np.random.seed(2), torch.manual_seed(2)
    set_rng_state(torch.load(tmp_path / 'rng.pth', weights_only=True))
    assert (random.random(), np.random.rand(3).tolist(), torch.rand(3).tolist()) == draws
