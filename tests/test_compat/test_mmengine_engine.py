"""Expiry tests of the runner, loop and optimizer wrapper workarounds in
simmim_mm/compat/mmengine.py: each asserts the MMEngine 0.10.7 behaviour that makes its
workaround necessary, and fails the day MMEngine changes it; the workaround can then go (or
must follow the change, for the copied methods)."""
import hashlib
import inspect
import logging
import os
from types import SimpleNamespace

import pytest
import torch
from mmengine.hooks import CheckpointHook
from mmengine.logging import MessageHub
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.optim.optimizer import amp_optimizer_wrapper
from mmengine.runner import EpochBasedTrainLoop, Runner

from simmim_mm.compat import mmengine as compat


def source_sha256(function) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()


def fake_runner(tmp_path, on_save=None):
    """What CheckpointHook uses of a runner; ``save_checkpoint`` writes a small file."""

    def save_checkpoint(out_dir, filename, *args, **kwargs):
        if on_save is not None:
            on_save(sorted(os.listdir(out_dir)))
        with open(os.path.join(out_dir, filename), 'wb') as file:
            file.write(b'checkpoint')

    return SimpleNamespace(
        work_dir=str(tmp_path),
        iter=0,
        epoch=0,
        logger=logging.getLogger('test_mmengine_engine'),
        message_hub=MessageHub.get_instance(f'compat-{tmp_path.name}'),
        save_checkpoint=save_checkpoint)


def test_runner_still_compiles_the_whole_train_step():
    """compile_model_forward: MMEngine compiles ``model.train_step``, whose optimizer wrapper
    dynamo fails to trace. Fails once MMEngine compiles something else."""
    assert "self._maybe_compile('train_step')" in inspect.getsource(Runner.train)


def test_checkpoint_hook_save_with_step_is_the_copied_version():
    """save_checkpoint_with_step copies this method: an upstream change must be merged."""
    assert (source_sha256(
        CheckpointHook._save_checkpoint_with_step) == compat.SAVE_CHECKPOINT_WITH_STEP_SHA256)


def test_checkpoint_hook_still_deletes_the_outdated_checkpoint_before_saving(tmp_path):
    listings = []
    runner = fake_runner(tmp_path, on_save=listings.append)
    hook = CheckpointHook(interval=1, by_epoch=False, max_keep_ckpts=1)
    hook.before_train(runner)
    hook._save_checkpoint_with_step(runner, 1, meta={})
    hook._save_checkpoint_with_step(runner, 2, meta={})
    assert 'iter_1.pth' not in listings[-1]  # gone while iter_2.pth was being written


def test_checkpoint_hook_still_deletes_the_previous_best_before_saving(tmp_path):
    """AtomicCheckpointHook.after_val_epoch hides the previous best from MMEngine's save."""
    listings = []
    runner = fake_runner(tmp_path, on_save=listings.append)
    hook = CheckpointHook(interval=1, by_epoch=False, save_best='acc', rule='greater')
    hook.before_train(runner)
    hook.after_val_epoch(runner, dict(acc=0.5))
    runner.iter = 1
    hook.after_val_epoch(runner, dict(acc=0.7))
    assert 'best_acc_iter_0.pth' not in listings[-1]


def test_checkpoint_hook_still_names_published_copies_after_a_pickle(tmp_path):
    """AtomicCheckpointHook publishes on its own: MMEngine names the copy after the sha256
    of a pickle of the dict, not of the file a download check hashes."""
    path = tmp_path / 'iter_1.pth'
    torch.save(dict(meta=dict(iter=1), state_dict=dict(w=torch.ones(2))), path)
    hook = CheckpointHook(published_keys=['meta', 'state_dict'])
    hook._publish_model(fake_runner(tmp_path), str(path))
    published = next(tmp_path.glob('iter_1-*.pth'))
    assert hashlib.sha256(published.read_bytes()).hexdigest()[:8] != published.stem[-8:]


def test_epoch_loop_run_is_the_copied_version():
    """run_epochs copies this method to end the loop at an unfinished epoch."""
    assert source_sha256(EpochBasedTrainLoop.run) == compat.EPOCH_LOOP_RUN_SHA256


def test_runner_keeps_the_randomness_config_private():
    """diff_rank_seed: fails once MMEngine exposes it, or renames where it keeps it."""
    assert not any(hasattr(Runner, name) for name in ('randomness', 'randomness_cfg'))
    assert 'self._randomness_cfg = randomness' in inspect.getsource(Runner.__init__)


def test_runner_scale_lr_leaves_accumulation_out_and_reads_the_private_dataloader():
    """lr_scaling.scale_lr (AtomicCheckpointRunner.scale_lr) counts the accumulation steps
    in the total batch, which it reads where MMEngine's does (train_dataloader_cfg)."""
    optimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=1.0)
    runner = SimpleNamespace(
        _train_dataloader=dict(batch_size=2),
        world_size=1,
        param_schedulers=None,
        logger=logging.getLogger('scale_lr'))
    Runner.scale_lr(runner, OptimWrapper(optimizer, accumulative_counts=4),
                    dict(enable=True, base_batch_size=8))
    assert optimizer.param_groups[0]['lr'] == 2 / 8  # 2 x 4 / 8 = 1 with accumulation


def test_optim_wrapper_keeps_its_counts_private():
    """accumulative_counts and count_skipped_step: no public way to read the accumulation
    steps, nor to count a micro-batch without a backward."""
    optimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=1.0)
    wrapper = OptimWrapper(optimizer, accumulative_counts=3)
    assert not hasattr(wrapper, 'accumulative_counts')
    assert compat.accumulative_counts(wrapper) == 3
    assert OptimWrapper.inner_count.fset is None
    compat.count_skipped_step(wrapper)
    assert wrapper.inner_count == 1


def test_amp_optim_wrapper_still_refuses_to_build_without_an_accelerator(monkeypatch):
    """init_amp_optim_wrapper_without_accelerator: fails once AmpOptimWrapper builds on a
    CPU."""
    for name in ('is_cuda_available', 'is_npu_available', 'is_mlu_available', 'is_musa_available'):
        monkeypatch.setattr(amp_optimizer_wrapper, name, lambda: False)
    optimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=1.0)
    with pytest.raises(AssertionError, match='only available'):
        AmpOptimWrapper(optimizer=optimizer)


def test_runner_still_passes_the_scope_to_the_collate_function():
    """drop_collate_fn_scope: a config inherited as ``simmim_mm::...`` tags its collate_fn
    with ``_scope_``, which MMEngine passes on to the function."""
    dataloader = dict(
        batch_size=2,
        dataset=[torch.ones(2)] * 2,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='default_collate', _scope_='simmim_mm'))
    with pytest.raises(TypeError, match='_scope_'):
        next(iter(Runner.build_dataloader(dataloader, seed=0)))
    batch = next(iter(Runner.build_dataloader(compat.drop_collate_fn_scope(dataloader), seed=0)))
    assert batch.shape == (2, 2)
    assert dataloader['collate_fn']['_scope_'] == 'simmim_mm'
