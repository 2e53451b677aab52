"""Which samples of an epoch each rank and each dataloader worker reads, in which order.

An epoch is the shards in a seeded order, read as one sequence. Every rank takes an equal,
contiguous part of it (the last ``samples % world_size`` are left out, a different few each
epoch); within a rank, each worker takes a contiguous run of whole batches, so that the
DataLoader's round-robin over workers gives the rank equal, full batches and a mid-epoch
resume knows how far each worker had read. A worker shuffles its run through a seeded
buffer, as WebDataset's shuffle does, but drawn on sample positions: the order is known
before a byte is read, and a resume reads only from the oldest sample still to come.
Everything depends on (seed, epoch, world size, workers, batch size) only.
"""
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import numpy as np


@dataclass
class WorkerPart:
    start: int  # position of the part's first sample in the epoch's sequence
    order: List[int]  # offsets in the part, in the order the worker gives them
    segments: List[Tuple[int, int, int]]  # (shard, first sample, stop sample), in stream order


def shard_order(num_shards: int, seed: int, epoch: int) -> np.ndarray:
    return np.random.default_rng([seed, epoch]).permutation(num_shards)


def batches_per_rank(samples: int, world_size: int, batch_size: int) -> int:
    return samples // world_size // batch_size


def worker_batches(batches: int, num_workers: int) -> List[int]:
    """Batches of each worker: the DataLoader asks workers in turn, one batch each."""
    return [
        batches // num_workers + (worker < batches % num_workers) for worker in range(num_workers)
    ]


def batches_read_by_worker(batches_done: int, num_workers: int, worker: int) -> int:
    """How many of the rank's first ``batches_done`` batches came from ``worker``."""
    return max(0, -(-(batches_done - worker) // num_workers))


def buffer_shuffle(length: int, buffer_size: int, rng: np.random.Generator) -> List[int]:
    """The order in which a shuffle buffer of ``buffer_size`` gives out a stream of
    ``length`` samples: fill it, then give out a random one for each new sample read."""
    picks = iter(rng.integers(buffer_size, size=max(length - buffer_size + 1, 0)).tolist())
    buffer, order = [], []
    for position in range(length):
        buffer.append(position)
        if len(buffer) == buffer_size:
            pick = next(picks)
            buffer[pick], buffer[-1] = buffer[-1], buffer[pick]
            order.append(buffer.pop())
    rng.shuffle(buffer)
    return order + buffer


def worker_part(samples_per_shard: Sequence[int], seed: int, epoch: int, world_size: int, rank: int,
                num_workers: int, worker: int, batch_size: int, buffer_size: int) -> WorkerPart:
    """What ``worker`` of ``rank`` reads in ``epoch``."""
    per_rank = batches_per_rank(sum(samples_per_shard), world_size, batch_size) * batch_size
    counts = worker_batches(per_rank // batch_size, num_workers)
    start = rank * (sum(samples_per_shard) // world_size) + batch_size * sum(counts[:worker])
    length = counts[worker] * batch_size

    segments, offset = [], 0  # offset: the epoch position of the current shard's first sample
    for shard in shard_order(len(samples_per_shard), seed, epoch):
        count = samples_per_shard[shard]
        first, stop = max(start - offset, 0), min(start + length - offset, count)
        if first < stop:
            segments.append((int(shard), first, stop))
        offset += count
    rng = np.random.default_rng([seed, epoch, rank, worker])
    return WorkerPart(start, buffer_shuffle(length, buffer_size, rng), segments)
