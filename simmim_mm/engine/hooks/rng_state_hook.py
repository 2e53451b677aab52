"""Resumes that continue the same random streams as a run that never stopped."""
from mmengine.hooks import Hook

from simmim_mm.compat.mmengine import diff_rank_seed
from simmim_mm.engine.rng_state import get_rng_state, set_rng_state
from simmim_mm.registry import HOOKS


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
        if runner.rank != 0 and diff_rank_seed(runner):
            return
        loop = runner.train_loop
        if hasattr(loop, 'dataloader_iterator') and loop.iter > 0:
            loop.dataloader_iterator = _RestoreRngBeforeBatch(loop, loop.iter, state)
        else:  # epoch loops replay nothing (ResumableEpochBasedTrainLoop skips in the sampler)
            set_rng_state(state)
