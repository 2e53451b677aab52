"""ResumableSampler keeps DefaultSampler's order, starts an epoch mid-way, and gives each sample
a seed that depends on its place in the epoch only; SeededSampleDataset draws each item's
augmentation from that seed and leaves the caller's random streams as they were."""
import random

import mmengine.dataset.sampler as mmengine_sampler
import numpy as np
import pytest
import torch
from mmengine.dataset import DefaultSampler

from simmim_mm.datasets.samplers import ResumableSampler, SeededSampleDataset
from simmim_mm.datasets.samplers.resumable_sampler import sample_seed


class RandomItems:
    """Each item draws from all three global streams, as augmentations do."""
    metainfo = dict(classes=None)

    def __len__(self):
        return 10

    def __getitem__(self, index):
        return (index, random.random(), float(np.random.rand()), float(torch.rand(())))


def on_rank(monkeypatch, rank, world_size):
    monkeypatch.setattr(mmengine_sampler, 'get_dist_info', lambda: (rank, world_size))


@pytest.mark.parametrize('shuffle', [True, False])
def test_order_is_default_samplers(shuffle):
    dataset = RandomItems()
    for epoch in range(3):
        ours, theirs = (
            cls(dataset, shuffle=shuffle, seed=5) for cls in (ResumableSampler, DefaultSampler))
        ours.set_epoch(epoch)
        theirs.set_epoch(epoch)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs)


def test_start_epoch_at_skips_once():
    sampler = ResumableSampler(RandomItems(), seed=1)
    sampler.set_epoch(2)
    full = list(sampler)
    sampler.start_epoch_at(4)
    assert list(sampler) == full[4:]
    assert list(sampler) == full  # the next epoch starts at its beginning again


def test_seeds_follow_the_global_position_whatever_the_world_size(monkeypatch):
    dataset = SeededSampleDataset(RandomItems())
    on_rank(monkeypatch, 0, 1)
    single = ResumableSampler(dataset, seed=3)
    single.set_epoch(1)
    keys = list(single)
    # DefaultSampler's permutation, and the SeedSequence of (seed, epoch, position)
    order = torch.randperm(10, generator=torch.Generator().manual_seed(3 + 1)).tolist()
    assert keys == [(index, int(np.random.SeedSequence([3, 1, position]).generate_state(1)[0]))
                    for position, index in enumerate(order)]
    assert len({seed for _, seed in keys}) == 10

    shards = []
    for rank in range(2):
        on_rank(monkeypatch, rank, 2)
        sampler = ResumableSampler(dataset, seed=3)
        sampler.set_epoch(1)
        sampler.start_epoch_at(1)  # this rank trained one sample of the epoch already
        shards.append(list(sampler))
    # rank r takes global positions r, r + 2, ...: together the epoch after its first 2
    assert sorted(shards[0] + shards[1]) == sorted(keys[2:])
    assert shards[1][0] == keys[3]


def test_seeded_items_repeat_and_leave_the_global_streams_alone():
    dataset = SeededSampleDataset(RandomItems())
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    expected = (random.random(), float(np.random.rand()), float(torch.rand(())))
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    first = dataset[(4, sample_seed(0, 0, 7))]
    assert first == dataset[(4, sample_seed(0, 0, 7))]  # the same sample, the same draw
    assert first != dataset[(4, sample_seed(0, 1, 7))]  # another epoch, another draw
    assert first[0] == 4
    # the caller's streams go on as if no item had been drawn
    assert (random.random(), float(np.random.rand()), float(torch.rand(()))) == expected


def test_plain_index_and_attributes_pass_through():
    inner = RandomItems()
    dataset = SeededSampleDataset(inner)
    assert dataset[3][0] == 3
    assert len(dataset) == 10
    assert dataset.metainfo is inner.metainfo
    with pytest.raises(AttributeError):
        dataset.no_such_attribute  # noqa: B018  the lookup is what raises
