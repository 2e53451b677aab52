"""Pretraining images streamed from WebDataset tar shards."""
import multiprocessing
from typing import List, Optional, Sequence, Union

from mmengine.dataset import Compose
from mmengine.dist import get_dist_info
from mmengine.logging import print_log
from torch.utils.data import IterableDataset, get_worker_info

from simmim_mm.datasets.samplers.resumable_sampler import sample_seed, seeded_random_state
from simmim_mm.datasets.shards.epoch_plan import (
    WorkerPart,
    batches_per_rank,
    batches_read_by_worker,
    worker_part,
)
from simmim_mm.datasets.shards.index import default_index_url, read_index
from simmim_mm.datasets.shards.reader import ShardReadError, expand_shards, read_shard, shard_name
from simmim_mm.registry import DATASETS

# the member taken as the image, by priority (WebDataset's usual names first)
IMAGE_EXTENSIONS = ('jpg', 'jpeg', 'png', 'webp', 'tif', 'tiff', 'bmp', 'ppm', 'pgm', 'pbm')


@DATASETS.register_module()
class WebDatasetShards(IterableDataset):
    """The images of WebDataset shards (``<key>.jpg``, ``.png``, ... members), through the same
    ``pipeline`` as a folder: the loader decodes the sample's bytes (``img_bytes``).

    ``shards`` is a path, a brace pattern (``data/in1k-{000000..001281}.tar``), a list, an
    ``http(s)://`` URL or a ``pipe:`` command (``pipe:aws s3 cp s3://bucket/x-000000.tar -``).
    ``index`` is the shards' ``index.json`` (default: beside the shards; required for
    ``pipe:``): it gives the epoch's length. Each epoch reads the shards in a seeded order,
    every rank and every dataloader worker a disjoint part of it (see ``epoch_plan.py``);
    ``batch_size`` and ``num_workers`` are the DataLoader's (ResumableEpochBasedTrainLoop
    fills them in). A sample's augmentation is drawn from a seed of (seed, epoch, position),
    so a run resumed mid-epoch with the same world size and workers continues exactly.
    A sample that cannot be decoded is replaced by the next readable one of the same worker
    (augmented afresh), so that every rank keeps its number of batches.
    """

    def __init__(self,
                 shards: Union[str, Sequence[str]],
                 pipeline: Sequence[dict],
                 batch_size: int,
                 num_workers: int = 0,
                 index: Optional[str] = None,
                 shuffle_buffer: int = 1000,
                 seed: int = 0,
                 retries: int = 3,
                 retry_delay: float = 1.0,
                 timeout: float = 60,
                 rank: Optional[int] = None,
                 world_size: Optional[int] = None):
        self.urls = expand_shards(shards)
        index = index or default_index_url(self.urls[0])
        if index is None:
            raise ValueError('shard_index: the shards are read through pipe:, so give the '
                             'index.json written with them (a path, URL or pipe: command)')
        counts = read_index(index, timeout)
        missing = [url for url in self.urls if shard_name(url) not in counts]
        if missing:
            raise ValueError(f'{len(missing)} shards are not in the index {index}, e.g. '
                             f'{shard_name(missing[0])!r}')
        self.samples_per_shard = [counts[shard_name(url)] for url in self.urls]
        if batch_size < 1 or shuffle_buffer < 1:
            raise ValueError(f'batch_size and shuffle_buffer must be >= 1, got {batch_size} '
                             f'and {shuffle_buffer}')
        self.pipeline = Compose(pipeline)
        default_rank, default_world_size = get_dist_info()
        self.rank = default_rank if rank is None else rank
        self.world_size = default_world_size if world_size is None else world_size
        self.batch_size, self.num_workers = batch_size, max(num_workers, 1)
        self.shuffle_buffer, self.seed = shuffle_buffer, seed
        self.read_options = dict(retries=retries, retry_delay=retry_delay, timeout=timeout)
        self.samples = sum(self.samples_per_shard)
        if len(self) == 0:
            raise ValueError(f'{self.samples} samples in {len(self.urls)} shards make no batch '
                             f'of {batch_size} on each of {self.world_size} processes')
        print_log(
            f'{len(self.urls)} shards, {self.samples} images: each of {self.world_size} '
            f'processes reads {len(self) // batch_size} batches of {batch_size} an epoch',
            logger='current')
        # shared with the workers, persistent ones too: set before each epoch by the loop
        self._epoch = multiprocessing.Value('q', -1, lock=False)
        self._start_batch = multiprocessing.Value('q', 0, lock=False)

    def __len__(self) -> int:
        """Samples this rank reads per epoch: whole batches only."""
        return batches_per_rank(self.samples, self.world_size, self.batch_size) * self.batch_size

    @property
    def metainfo(self) -> dict:
        return {}  # images without labels

    @property
    def layout(self) -> dict:
        """What the split of an epoch depends on, besides the seed."""
        return dict(
            world_size=self.world_size,
            num_workers=self.num_workers,
            batch_size=self.batch_size,
            samples=self.samples)

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        """Read ``epoch`` next, from the rank's batch ``start_batch`` on (a resume)."""
        self._epoch.value, self._start_batch.value = epoch, start_batch

    def part(self, epoch: int, worker: int) -> WorkerPart:
        return worker_part(self.samples_per_shard, self.seed, epoch, self.world_size, self.rank,
                           self.num_workers, worker, self.batch_size, self.shuffle_buffer)

    def __iter__(self):
        info = get_worker_info()
        worker = info.id if info is not None else 0
        if (info.num_workers if info is not None else 1) != self.num_workers:
            raise RuntimeError(f'WebDatasetShards was split for {self.num_workers} dataloader '
                               f'workers but runs in {info.num_workers if info else 0}')
        epoch, start_batch = self._epoch.value, self._start_batch.value
        if epoch < 0:
            raise RuntimeError('WebDatasetShards: set_epoch() was not called; train with '
                               "train_cfg type='ResumableEpochBasedTrainLoop'")
        # the DataLoader asks its workers in turn from worker 0: a resumed epoch has worker 0
        # read for the worker whose turn came next in the stopped run
        worker = (worker + start_batch) % self.num_workers
        part = self.part(epoch, worker)
        skip = batches_read_by_worker(start_batch, self.num_workers, worker) * self.batch_size
        pending, fallback = [], None  # positions whose sample could not be decoded
        for offset, (name, members) in enumerate(self._read_in_order(part, skip), start=skip):
            results = self._transform(name, members, epoch, part.start + offset)
            if results is None:
                pending.append(part.start + offset)
                continue
            for position in pending:  # replaced by this readable sample, augmented afresh
                yield self._transform(name, members, epoch, position, replacing=True)
            pending, fallback = [], (name, members)
            yield results
        for position in pending:  # the part ended with unreadable samples
            if fallback is None:
                raise RuntimeError(f'no sample of epoch {epoch} of worker {worker} could be '
                                   f'decoded (shards {self._shards_of(part)})')
            yield self._transform(*fallback, epoch, position, replacing=True)

    def _transform(self,
                   name: str,
                   members: dict,
                   epoch: int,
                   position: int,
                   replacing: bool = False) -> Optional[dict]:
        extension = next((ext for ext in IMAGE_EXTENSIONS if ext in members), None)
        results = dict(
            img_path=f'{name}.{extension or "<no image member>"}',
            img_bytes=members.get(extension, b''),
            sample_idx=position)
        with seeded_random_state(sample_seed(self.seed, epoch, position)):
            results = self.pipeline(results)
        if results is None and replacing:
            raise RuntimeError(f'{name}: the pipeline dropped a sample it had accepted')
        return results

    def _read_in_order(self, part: WorkerPart, skip: int):
        """``(name, members)`` of the part's samples in its order, from the ``skip``-th on."""
        wanted = part.order[skip:]
        if not wanted:
            return
        needed, held = set(wanted), {}
        stream = self._read_part(part, min(wanted))
        for offset in wanted:
            while offset not in held:  # read on, keeping what is still to be given out
                read, name, members = next(stream)
                if read in needed:
                    held[read] = (name, members)
            yield held.pop(offset)

    def _read_part(self, part: WorkerPart, start: int):
        """``(offset, name, members)`` of the part's samples in stream order, from ``start``
        on; whole shards before it are not opened."""
        offset = 0
        for shard, first, stop in part.segments:
            begin = first + max(0, start - offset)
            if begin < stop:
                url, read = self.urls[shard], 0
                for key, members in read_shard(url, skip=begin, **self.read_options):
                    yield offset + begin - first + read, f'{url}#{key}', members
                    read += 1
                    if begin + read == stop:
                        break
                if begin + read < stop:
                    raise ShardReadError(
                        f'shard {url} ended after {begin + read} samples; the index says '
                        f'{self.samples_per_shard[shard]}')
            offset += stop - first

    def _shards_of(self, part: WorkerPart) -> List[str]:
        return [self.urls[shard] for shard, _, _ in part.segments]
