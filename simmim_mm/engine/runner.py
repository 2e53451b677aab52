"""Checkpoints that a kill cannot corrupt, and resumes that continue the same random streams.

MMEngine 0.10.7 writes a checkpoint in place (its file backend opens the final path ``'wb'``),
and CheckpointHook deletes the oldest checkpoint *before* writing the new one and rewrites
``last_checkpoint`` in place. A run killed while saving can therefore leave a truncated
``iter_N.pth``, no complete checkpoint at all (``max_keep_ckpts=1``), or an empty
``last_checkpoint``; ``--resume`` then fails. Three small pieces, selected in
``configs/_base_/default_runtime.py``, close those windows without patching MMEngine:

- :class:`AtomicCheckpointRunner` (``runner_type``): every ``Runner.save_checkpoint`` (all of
  CheckpointHook's, NonFiniteLossHook's, any other hook's) writes a hidden temporary file in
  the same folder and ``os.replace``-s it onto the final name once complete.
- :class:`AtomicCheckpointHook` (``default_hooks.checkpoint``): deletes outdated checkpoints
  only after the new one is complete, and replaces ``last_checkpoint`` atomically.
- :class:`RngStateHook` (``default_hooks.rng_state``): stores the python / numpy / torch RNG
  states in each checkpoint and restores them on resume, so that a resumed run draws the
  same drop-path, augmentation and mask randomness as an uninterrupted one.
"""
import copy
import glob
import hashlib
import io
import os
import os.path as osp
import random

import numpy as np
import torch
from mmengine.dist import is_main_process, master_only
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.hooks import CheckpointHook, Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint

from simmim_mm.checkpoint.atomic import atomic_path
from simmim_mm.datasets.shards import WebDatasetShards
from simmim_mm.engine.hooks.resume_point_hook import shield_workers_from_stop_signals
from simmim_mm.engine.lr_scaling import scale_lr
from simmim_mm.registry import HOOKS, RUNNERS


@RUNNERS.register_module()
class AtomicCheckpointRunner(Runner):
    """MMEngine's Runner whose checkpoints appear under their final name only when complete.

    Overriding ``save_checkpoint`` (rather than CheckpointHook, or the file backend globally)
    covers every caller: periodic, last and best checkpoints as well as hooks that save on
    their own. A kill mid-write leaves at most a hidden ``.<name>.<pid>.tmp`` beside the
    checkpoints (AtomicCheckpointHook deletes it when training starts again). Files are not
    fsync-ed: this survives a killed process, not a power cut of the machine. Remote backends
    (S3, ...) and the deprecated ``file_client_args`` keep MMEngine's behaviour: object
    stores publish an upload only once it completes anyway.
    """

    def _maybe_compile(self, target: str) -> None:
        """``compile=True`` (or a dict of ``torch.compile`` options) compiles the model's
        forward: encoder, decoder and loss. MMEngine compiles the whole ``train_step``,
        whose optimizer wrapper dynamo fails to trace (torch 2.14, MMEngine 0.10.7)."""
        options = self.cfg.get('compile')
        if not options:
            return
        options = {} if options is True else dict(options)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        model.forward = torch.compile(model.forward, **options)
        self.logger.info('The model forward is compiled: the first iterations are slow.')

    def scale_lr(self, optim_wrapper, auto_scale_lr=None) -> None:
        """MMEngine's, with gradient accumulation in the total batch (GPUs x batch x
        ``accumulative_counts``) as the official lr scaling, and a log line of the scaled
        lr, warmup start lr and min lr: see ``simmim_mm/engine/lr_scaling.py``."""
        scale_lr(self, optim_wrapper, auto_scale_lr)

    @staticmethod
    def build_dataloader(dataloader, seed=None, diff_rank_seed=False):
        """MMEngine's, but a ``collate_fn`` from a ``package::`` base config works, the
        workers leave SIGTERM to the training process (see ResumePointHook), and a dataset
        that names ``shards`` outside ResumableEpochBasedTrainLoop (which streams them) is
        an error that says so, not CustomDataset's unexpected keyword.

        MMEngine 0.10.7 tags every dict with a ``type`` in a config inherited as
        ``simmim_mm::`` / ``mmpretrain::`` with ``_scope_``, and its ``build_dataloader``
        passes all keys but ``type`` to the collate function:
        ``default_collate(_scope_=...)`` fails on the first batch. Functions have no scope."""
        dataset = dataloader.get('dataset') if isinstance(dataloader, dict) else None
        if isinstance(dataset, dict) and 'shards' in dataset and dataset.get('type') not in (
                'WebDatasetShards', WebDatasetShards):
            raise ValueError(
                'train_dataloader.dataset.shards: shards are streamed by train_cfg '
                "type='ResumableEpochBasedTrainLoop' (every pretraining and distillation "
                'recipe); this config trains with another loop or names shards elsewhere')
        collate = dataloader.get('collate_fn') if isinstance(dataloader, dict) else None
        if isinstance(collate, dict) and '_scope_' in collate:
            dataloader = copy.copy(dataloader)
            dataloader['collate_fn'] = {k: v for k, v in collate.items() if k != '_scope_'}
        loader = Runner.build_dataloader(dataloader, seed=seed, diff_rank_seed=diff_rank_seed)
        shield_workers_from_stop_signals(loader)  # see ResumePointHook
        return loader

    @master_only
    def save_checkpoint(self, out_dir, filename, file_client_args=None, *args,
                        backend_args=None, **kwargs):
        save = super().save_checkpoint
        if file_client_args is not None or not isinstance(
                get_file_backend(out_dir, backend_args=backend_args), LocalBackend):
            return save(out_dir, filename, file_client_args, *args,
                        backend_args=backend_args, **kwargs)
        with atomic_path(osp.join(out_dir, filename)) as tmp:
            save(out_dir, osp.relpath(tmp, out_dir), None, *args, backend_args=backend_args,
                 **kwargs)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """CheckpointHook that never leaves a run without a complete checkpoint to resume from.

    Same options and same files as MMEngine's. Differences in ordering, so that a kill at
    any moment leaves ``last_checkpoint`` naming a complete file and a best checkpoint on disk:
    outdated checkpoints (``max_keep_ckpts``) and the previous best (``save_best``) are
    deleted after the new one is written, not before, and ``last_checkpoint`` is replaced
    atomically. (Mirrors ``CheckpointHook._save_checkpoint_with_step`` of MMEngine 0.10.7.)
    Temporary files that killed runs left behind are deleted when training starts. The
    ``published_keys`` copies are atomic too, and their names carry their real sha256 prefix.
    """

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if is_main_process() and isinstance(self.file_backend, LocalBackend):
            for path in glob.glob(osp.join(glob.escape(self.out_dir), '.*.pth.*.tmp')):
                os.remove(path)

    def _publish_model(self, runner, ckpt_path: str) -> None:
        """MMEngine's ``published_keys`` copy (``NAME-<sha256[:8]>.pth``), written by rank 0
        only, under a temporary name until complete, and named after the sha256 of the file
        itself: MMEngine hashes a pickle of the dict, which no download check reproduces."""
        if not isinstance(self.file_backend, LocalBackend):
            return super()._publish_model(runner, ckpt_path)
        if not is_main_process():
            return
        checkpoint = _load_checkpoint(ckpt_path, map_location='cpu')
        removed = [key for key in list(checkpoint) if key not in self.published_keys]
        for key in removed:
            checkpoint.pop(key)
        if removed:
            runner.logger.info(f'Not published (not in published_keys): {removed}')
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        data = buffer.getvalue()
        final_path = f'{osp.splitext(ckpt_path)[0]}-{hashlib.sha256(data).hexdigest()[:8]}.pth'
        with atomic_path(final_path) as tmp, open(tmp, 'wb') as file:
            file.write(data)
        runner.logger.info(f'The checkpoint {ckpt_path} is published to {final_path}')

    def _save_best_checkpoint(self, runner, metrics) -> None:
        # MMEngine removes the previous best before it saves the new one: hold the removal
        deferred = []
        backend = self.file_backend
        backend.remove = backend.rmtree = deferred.append
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            del backend.remove, backend.rmtree
        for path in deferred:
            if backend.isfile(path):
                backend.remove(path)
            elif backend.isdir(path):  # DeepSpeed saves folders
                backend.rmtree(path)

    def _save_checkpoint_with_step(self, runner, step, meta):
        outdated = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated.append(self.file_backend.join_path(
                    self.out_dir, self.filename_tmpl.format(self.keep_ckpt_ids.popleft())))
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir, ckpt_filename, self.file_client_args,
            save_optimizer=self.save_optimizer, save_param_scheduler=self.save_param_scheduler,
            meta=meta, by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return

        with atomic_path(osp.join(runner.work_dir, 'last_checkpoint')) as tmp:
            with open(tmp, 'w') as f:
                f.write(self.last_ckpt)
        for path in outdated:
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # DeepSpeed saves folders
                self.file_backend.rmtree(path)


def get_rng_state() -> dict:
    """python, numpy and torch (CPU and CUDA) RNG states, as types that
    ``torch.load(weights_only=True)`` reads back (no numpy uint32 arrays)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = dict(python=random.getstate(),
                 numpy=(kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    version, internal, gauss_next = state['python']
    random.setstate((version, tuple(internal), gauss_next))
    kind, keys, pos, has_gauss, gauss = state['numpy']
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


class _RestoreRngBeforeBatch:
    """Stands in for IterBasedTrainLoop's data iterator while it replays the ``skip`` batches
    already trained on (MMEngine's way of restoring the data order); restores the RNG state
    just before the first new batch is fetched, then hands the loop its iterator back.

    Restoring any earlier would not do: with ``num_workers=0`` the replayed batches run the
    augmentation in this process and would advance the restored streams once more."""

    def __init__(self, loop, skip: int, state: dict):
        self.loop, self.skip, self.state = loop, skip, state
        self.iterator = loop.dataloader_iterator

    def __iter__(self):
        return self

    def __next__(self):
        if self.skip > 0:
            self.skip -= 1
        else:
            set_rng_state(self.state)
            self.loop.dataloader_iterator = self.iterator
        return next(self.iterator)


@HOOKS.register_module()
class RngStateHook(Hook):
    """Saves the RNG states in every checkpoint and restores them when a run resumes.

    MMEngine's resume restores weights, optimizer, schedulers, message hub and (by replaying
    the sampler) the data order, but re-seeds the random generators from scratch; anything
    drawn in the training process (drop path, and with ``num_workers=0`` the crops, flips and
    masks) then differs from the uninterrupted run. Dataloader workers are re-seeded by
    MMEngine from the seed and replay their streams with the data, so they need nothing.
    With several processes only rank 0 saves, and its state is restored on every rank: exact
    for the others too while their streams match rank 0's (a shared seed, MMEngine's default,
    with augmentation in the workers). With ``diff_rank_seed`` the other ranks keep fresh
    seeds.
    """

    priority = 'VERY_LOW'

    def __init__(self):
        self.resumed_state = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['rng_state'] = get_rng_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self.resumed_state = checkpoint.get('rng_state')

    def before_train(self, runner) -> None:
        state, self.resumed_state = self.resumed_state, None
        if state is None or (runner.iter == 0 and runner.epoch == 0):
            return  # nothing saved, or weights loaded with load_from: a fresh run
        if runner.rank != 0 and runner._randomness_cfg.get('diff_rank_seed', False):
            return
        loop = runner.train_loop
        if hasattr(loop, 'dataloader_iterator') and loop.iter > 0:
            loop.dataloader_iterator = _RestoreRngBeforeBatch(loop, loop.iter, state)
        else:  # epoch loops replay nothing (ResumableEpochBasedTrainLoop skips in the sampler)
            set_rng_state(state)
