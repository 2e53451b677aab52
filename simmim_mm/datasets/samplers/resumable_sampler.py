"""A sampler that can start mid-epoch, and augmentation that depends on the sample, not on the
worker: together they let a run resume mid-epoch exactly as if it had never stopped."""
import random
from contextlib import contextmanager
from typing import Iterator, Sized

import numpy as np
import torch
from mmengine.dataset import DefaultSampler

from simmim_mm.registry import DATA_SAMPLERS, DATASETS


def sample_seed(seed: int, epoch: int, position: int) -> int:
    """The seed of the augmentation of the ``position``-th sample of ``epoch``."""
    return int(np.random.SeedSequence([seed, epoch, position]).generate_state(1)[0])


@contextmanager
def seeded_random_state(seed: int):
    """Draw python's, numpy's and torch's CPU randomness from ``seed`` inside the block, then
    restore the caller's states (the CUDA generators stay untouched)."""
    states = random.getstate(), np.random.get_state(), torch.get_rng_state()
    random.seed(seed)
    np.random.seed(seed)
    torch.default_generator.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])


@DATASETS.register_module()
class SeededSampleDataset:
    """Wraps a dataset so that each item's random augmentation (crop, flip, mask) is drawn
    from its own seed, given with the index as ``(index, seed)`` by :class:`ResumableSampler`.

    Dataloader workers otherwise draw from streams that run on across the samples they
    happen to get, and persistent workers across epochs: streams that a resumed run cannot
    restore. Seeding per sample makes augmentation independent of the number of workers and
    processes, and restores the caller's python / numpy / torch CPU states after each item
    (with ``num_workers=0`` the training process draws drop path from them). A plain integer
    index returns the item with the global random state, as the wrapped dataset would.
    """

    def __init__(self, dataset):
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset

    @property
    def metainfo(self) -> dict:
        return self.dataset.metainfo

    def __len__(self) -> int:
        return len(self.dataset)

    def __getattr__(self, name):  # get_data_info, data_root, pipeline, ...
        if name == 'dataset':  # not set yet (unpickling)
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __getitem__(self, key):
        if not isinstance(key, tuple):
            return self.dataset[key]
        index, seed = key
        with seeded_random_state(seed):
            return self.dataset[index]


@DATA_SAMPLERS.register_module()
class ResumableSampler(DefaultSampler):
    """MMEngine's DefaultSampler (same arguments, same order of indices) that can start an
    epoch after its first ``n`` samples, and that gives a :class:`SeededSampleDataset` the
    seed of each sample with its index.

    The seed depends on the sampler's seed, the epoch and the sample's position in the
    epoch's global order, so it is the same whatever the number of processes and workers.
    ResumableEpochBasedTrainLoop calls :meth:`start_epoch_at` when it resumes mid-epoch.
    """

    def __init__(self, dataset: Sized, *args, **kwargs):
        super().__init__(dataset, *args, **kwargs)
        self._start = 0

    def start_epoch_at(self, num_samples: int) -> None:
        """Make the next epoch skip the first ``num_samples`` samples of this rank."""
        self._start = num_samples

    def __iter__(self) -> Iterator:
        start, self._start = self._start, 0
        indices = list(super().__iter__())[start:]
        if not isinstance(self.dataset, SeededSampleDataset):
            return iter(indices)
        # positions of this rank's samples in the epoch's global order (DefaultSampler
        # strides over it by rank), so that the seeds do not depend on the world size
        positions = range(self.rank + start * self.world_size, self.total_size, self.world_size)
        return iter((index, sample_seed(self.seed, self.epoch, position))
                    for index, position in zip(indices, positions))
