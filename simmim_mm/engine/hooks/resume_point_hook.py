"""Bound what a killed run loses: a checkpoint every ``minutes`` of training, and one at the
end of the current iteration when the job is told to stop (SIGTERM from Slurm, torchrun,
Kubernetes or a spot-instance notice)."""
import os.path as osp
import signal
import time
from typing import Optional, Sequence

import torch
from mmengine.dist import all_reduce, get_world_size, is_main_process
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop

from simmim_mm.checkpoint.atomic import atomic_path
from simmim_mm.registry import HOOKS


@HOOKS.register_module()
class ResumePointHook(Hook):
    """Saves ``filename`` in the work dir every ``minutes`` of training (or every ``interval``
    iterations), and on any of ``signals`` saves at the end of the current iteration and
    stops the run; ``last_checkpoint`` names it, so ``--resume`` continues from there.

    The file is replaced atomically, so there is always one complete resume point and the
    periodic checkpoints (CheckpointHook) are kept as configured. With an epoch-based loop,
    the resume is exact mid-epoch with ResumableEpochBasedTrainLoop; MMEngine's
    EpochBasedTrainLoop would restart the epoch, so the hook stays off there (a warning). All
    processes agree on when to save and stop (one small all-reduce per iteration), since a
    signal reaches them at slightly different moments. After a signal the run ends cleanly
    and tools/train.py exits with 128 + the signal number.
    """

    priority = 'VERY_LOW'  # after the schedulers have stepped: the state of a finished iteration

    def __init__(self,
                 minutes: float = 30,
                 interval: Optional[int] = None,
                 filename: str = 'resume_point.pth',
                 signals: Sequence[str] = ('SIGTERM', )):
        if interval is not None and interval < 1:
            raise ValueError(f'ResumePointHook: interval must be >= 1, got {interval}')
        if minutes <= 0:
            raise ValueError(f'ResumePointHook: minutes must be > 0, got {minutes}')
        unknown = [name for name in signals if not hasattr(signal, name)]
        if unknown:
            raise ValueError(f'ResumePointHook: unknown signals {unknown}')
        self.minutes, self.interval, self.filename = minutes, interval, filename
        self.signals = [getattr(signal, name) for name in signals]
        self.received = None
        self.enabled = True
        self._previous_handlers = {}
        self._last_save = time.monotonic()

    def before_train(self, runner) -> None:
        loop = runner.train_loop
        self.enabled = not isinstance(loop, EpochBasedTrainLoop) or getattr(
            loop, 'resumes_mid_epoch', False)
        if not self.enabled:
            runner.logger.warning(
                'ResumePointHook is off: MMEngine\'s EpochBasedTrainLoop cannot resume '
                'mid-epoch (it restarts the epoch); set '
                "train_cfg.type='ResumableEpochBasedTrainLoop' to save every "
                f'{self.minutes} min and on SIGTERM')
            return
        for signum in self.signals:
            self._previous_handlers[signum] = signal.signal(signum, self._on_signal)
        self._last_save = time.monotonic()
        every = (f'{self.interval} iterations' if self.interval else f'{self.minutes} min')
        runner.logger.info(f'Resume point {self.filename} every {every}; on '
                           f'{", ".join(signal.Signals(s).name for s in self.signals)}: '
                           'save and stop')

    def after_train(self, runner) -> None:
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler)
        self._previous_handlers = {}

    def _on_signal(self, signum, frame) -> None:
        self.received = signum

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        self._last_save = time.monotonic()  # any checkpoint counts

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if not self.enabled:
            return
        if self.interval:
            due = (runner.iter + 1) % self.interval == 0
        else:  # rank 0's clock decides
            due = is_main_process() and time.monotonic() - self._last_save >= 60 * self.minutes
        received = self.received or 0
        if get_world_size() > 1:
            flags = torch.tensor([int(due), received])
            all_reduce(flags, op='max')
            due, received = bool(flags[0]), int(flags[1])
        if received:
            runner.logger.warning(f'{signal.Signals(received).name} received: saving at '
                                  f'iteration {runner.iter + 1} and stopping')
        if due or received:
            self._save(runner)
        if received:
            runner.message_hub.update_info('stopped_by_signal', received)
            runner.train_loop.stop_training = True

    def _save(self, runner) -> None:
        runner.save_checkpoint(
            runner.work_dir,
            self.filename,
            save_optimizer=True,
            save_param_scheduler=True,
            by_epoch=False)
        self._last_save = time.monotonic()
        if is_main_process():
            with atomic_path(osp.join(runner.work_dir, 'last_checkpoint')) as tmp:
                with open(tmp, 'w') as file:
                    file.write(osp.join(runner.work_dir, self.filename))
