"""Dataloader workers that leave the job's stop signals to the training process.

Slurm signals every process of a job, workers included. A PyTorch worker dies of a SIGTERM
that its parent did not send, and the parent then raises "DataLoader worker ... is killed by
signal" at an arbitrary point of the training step instead of saving (ResumePointHook saves
and stops on SIGTERM). AtomicCheckpointRunner and ResumableEpochBasedTrainLoop shield the
workers of every dataloader they build.
"""
import os
import signal
import threading
from functools import partial


def _exit_on_sigterm_from(parent_pid: int) -> None:
    while True:
        if signal.sigwaitinfo({signal.SIGTERM}).si_pid == parent_pid:
            os._exit(0)  # the DataLoader or multiprocessing ending its worker


def _leave_stop_signals_to_parent(worker_init_fn, worker_id: int) -> None:
    # SIGTERM stays blocked in every thread of the worker; one thread takes each from the queue
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    threading.Thread(target=_exit_on_sigterm_from, args=(os.getppid(), ), daemon=True).start()
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    if worker_init_fn is not None:
        worker_init_fn(worker_id)


def shield_workers_from_stop_signals(dataloader) -> None:
    """Make ``dataloader``'s workers ignore SIGTERM (but their parent's) and SIGUSR1.

    As in PyTorch, a SIGTERM from the parent (shutting its workers down) still ends a
    worker. Shielding a dataloader twice wraps its ``worker_init_fn`` once."""
    init = getattr(dataloader, 'worker_init_fn', None)
    if getattr(
            dataloader, 'num_workers',
            0) and not (isinstance(init, partial) and init.func is _leave_stop_signals_to_parent):
        dataloader.worker_init_fn = partial(_leave_stop_signals_to_parent, init)
