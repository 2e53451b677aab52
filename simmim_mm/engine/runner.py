"""The configs' ``runner_type``: MMEngine's Runner whose checkpoints a kill cannot corrupt.

MMEngine 0.10.7 writes a checkpoint in place (its file backend opens the final path
``'wb'``): a run killed while saving leaves a truncated ``iter_N.pth``. With
AtomicCheckpointHook (``default_hooks.checkpoint``, the outdated and best checkpoints
deleted last) and RngStateHook (``default_hooks.rng_state``, the random streams restored on
resume), selected in ``configs/_base_/default_runtime.py``, a killed run resumes as if it had
never stopped. The runner is also where the configs' other runner-level choices plug in; each
lives in the module it names.
"""
import os.path as osp

from mmengine.dist import master_only
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.runner import Runner

from simmim_mm.checkpoint.atomic import atomic_path
from simmim_mm.compat.mmengine import compile_model_forward, drop_collate_fn_scope
from simmim_mm.engine.loops.resumable_epoch_loop import check_shards_are_streamed
from simmim_mm.engine.lr_scaling import scale_lr
from simmim_mm.engine.worker_signals import shield_workers_from_stop_signals
from simmim_mm.registry import RUNNERS


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

    Also: ``compile=True`` compiles the model's forward (see ``compile_model_forward``),
    ``auto_scale_lr`` counts gradient accumulation in the total batch (``lr_scaling``), and
    every dataloader it builds shields its workers from the job's stop signals
    (``worker_signals``).
    """

    # MMEngine compiles the whole train_step, which dynamo fails to trace: the forward only
    _maybe_compile = compile_model_forward

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
        an error that says so, not CustomDataset's unexpected keyword."""
        check_shards_are_streamed(dataloader)
        loader = Runner.build_dataloader(
            drop_collate_fn_scope(dataloader), seed=seed, diff_rank_seed=diff_rank_seed)
        shield_workers_from_stop_signals(loader)
        return loader

    @master_only
    def save_checkpoint(self,
                        out_dir,
                        filename,
                        file_client_args=None,
                        *args,
                        backend_args=None,
                        **kwargs):
        save = super().save_checkpoint
        if file_client_args is not None or not isinstance(
                get_file_backend(out_dir, backend_args=backend_args), LocalBackend):
            return save(
                out_dir, filename, file_client_args, *args, backend_args=backend_args, **kwargs)
        with atomic_path(osp.join(out_dir, filename)) as tmp:
            save(
                out_dir,
                osp.relpath(tmp, out_dir),
                None,
                *args,
                backend_args=backend_args,
                **kwargs)
