"""MMEngine's CheckpointHook, reordered so that a kill at any moment leaves a checkpoint to
resume from.

MMEngine 0.10.7's CheckpointHook deletes the oldest checkpoint (``max_keep_ckpts``) and the
previous best (``save_best``) *before* it writes the new one, and rewrites
``last_checkpoint`` in place: a run killed while saving can be left with no complete
checkpoint (``max_keep_ckpts=1``) or an empty ``last_checkpoint``, and ``--resume`` fails.
"""
import glob
import hashlib
import io
import os
import os.path as osp

import torch
from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook
from mmengine.runner import CheckpointLoader

from simmim_mm.checkpoint.atomic import atomic_path
from simmim_mm.compat.mmengine import save_checkpoint_with_step
from simmim_mm.registry import HOOKS


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """CheckpointHook that never leaves a run without a complete checkpoint to resume from.

    Same options and same files as MMEngine's. Differences in ordering, so that a kill at
    any moment leaves ``last_checkpoint`` naming a complete file and a best checkpoint on disk:
    outdated checkpoints (``max_keep_ckpts``) and the previous best (``save_best``) are
    deleted after the new one is written, not before, and ``last_checkpoint`` is replaced
    atomically. Temporary files that killed runs left behind are deleted when training
    starts. The ``published_keys`` copies are atomic too, and their names carry their real
    sha256 prefix. (The checkpoint files themselves are written atomically by
    AtomicCheckpointRunner.)
    """

    # MMEngine's, with the outdated checkpoint deleted last and an atomic last_checkpoint
    _save_checkpoint_with_step = save_checkpoint_with_step

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if is_main_process() and isinstance(self.file_backend, LocalBackend):
            for path in glob.glob(osp.join(glob.escape(self.out_dir), '.*.pth.*.tmp')):
                os.remove(path)

    def after_val_epoch(self, runner, metrics) -> None:
        """MMEngine's, but the previous best checkpoint is deleted once the new best is
        written: MMEngine deletes the file its best path names before the save, so the path
        is hidden from it while it saves."""
        previous = self._best_paths()
        for key in previous:
            self._set_best_path(key, None)
        try:
            super().after_val_epoch(runner, metrics)
        finally:
            for key, path in self._best_paths().items():
                if path is None:  # no new best: the previous one stays
                    self._set_best_path(key, previous[key])
        for key, path in previous.items():
            if path and self._best_paths()[key] != path and is_main_process():
                self._remove(runner, path)

    def after_train(self, runner) -> None:
        """MMEngine publishes ``published_keys`` copies here (``NAME-<sha256[:8]>.pth``);
        these are written under a temporary name until complete, and named after the sha256
        of the file itself: MMEngine hashes a pickle of the dict, which no download check
        reproduces. Remote backends keep MMEngine's."""
        if not isinstance(self.file_backend, LocalBackend):
            return super().after_train(runner)
        if self.published_keys is None:
            return
        paths = [self.last_ckpt] if self.save_last and self.last_ckpt is not None else []
        if getattr(self, 'best_ckpt_path', None) is not None:
            paths.append(str(self.best_ckpt_path))
        paths.extend((getattr(self, 'best_ckpt_path_dict', None) or {}).values())
        if is_main_process():
            for path in paths:
                self._publish(runner, path)

    def _publish(self, runner, ckpt_path: str) -> None:
        checkpoint = CheckpointLoader.load_checkpoint(ckpt_path, map_location='cpu')
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

    def _best_paths(self) -> dict:
        """The best checkpoint of each key indicator (None: one indicator)."""
        if not self.save_best:
            return {}
        if len(self.key_indicators) == 1:
            return {None: getattr(self, 'best_ckpt_path', None)}
        return dict(self.best_ckpt_path_dict)

    def _set_best_path(self, key, path) -> None:
        if key is None:
            self.best_ckpt_path = path
        else:
            self.best_ckpt_path_dict[key] = path

    def _remove(self, runner, path: str) -> None:
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # DeepSpeed saves folders
            self.file_backend.rmtree(path)
        else:
            return
        runner.logger.info(f'The previous best checkpoint {path} is removed')
