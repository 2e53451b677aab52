"""Write a folder (or a list) of images as WebDataset tar shards, resumably.

Each sample is ``<key>.<ext>`` (the file's bytes, unchanged) and ``<key>.json`` (its original
path); keys are the images' positions in the sorted source list, so they are unique and a
resumed conversion writes the same shards. A shard is written under a hidden temporary name
and renamed when complete; ``.<prefix>-progress.json`` records the shards done, and the
index is written last. Unreadable images are skipped and listed in the index.
"""
import hashlib
import inspect
import io
import json
import multiprocessing
import os
import os.path as osp
import tarfile
from typing import Callable, Dict, List, Optional, Sequence

from mmpretrain.datasets import CustomDataset
from PIL import Image

from simmim_mm.checkpoint.atomic import atomic_path
from simmim_mm.datasets.shards.index import INDEX_NAME, write_index
from simmim_mm.datasets.shards.reader import iter_tar_samples

# the files a folder dataset (mmpretrain's CustomDataset) reads
IMAGE_SUFFIXES = tuple(inspect.signature(CustomDataset).parameters['extensions'].default)


def list_images(folder: str) -> List[str]:
    """Image files under ``folder``, recursively, as sorted relative paths."""
    found = []
    for root, dirs, files in os.walk(folder, followlinks=True):
        dirs.sort()
        found += [
            osp.relpath(osp.join(root, name), folder) for name in files
            if name.lower().endswith(IMAGE_SUFFIXES)
        ]
    return sorted(found)


def unreadable(path: str) -> Optional[str]:
    """Why ``path`` cannot be decoded, or None if it can."""
    try:
        with Image.open(path) as image:
            image.load()
        return None
    except Exception as error:  # any decoder failure
        return f'{type(error).__name__}: {error}'


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)  # fixed metadata: the same files make the same shard
    info.size, info.mode = len(data), 0o444
    tar.addfile(info, io.BytesIO(data))


def write_shards(root: str,
                 files: Sequence[str],
                 out_dir: str,
                 prefix: str = 'shards',
                 samples_per_shard: int = 1000,
                 max_shard_bytes: Optional[int] = None,
                 workers: int = 1,
                 log: Callable[[str], None] = print) -> Dict[str, int]:
    """Write ``files`` (paths relative to ``root``) as shards into ``out_dir`` and return the
    index (shard name -> samples). A shard closes at ``samples_per_shard`` images or before
    its files pass ``max_shard_bytes``. Run again after an interruption, it continues."""
    if samples_per_shard < 1:
        raise ValueError(f'samples_per_shard must be >= 1, got {samples_per_shard}')
    os.makedirs(out_dir, exist_ok=True)
    progress_path = osp.join(out_dir, f'.{prefix}-progress.json')
    sources = hashlib.sha256('\n'.join(files).encode()).hexdigest()
    progress = dict(sources=sources, next_file=0, shards={}, skipped=[])
    if osp.exists(progress_path):
        with open(progress_path) as file:
            progress = json.load(file)
        if progress['sources'] != sources:
            raise ValueError(f'{out_dir} holds shards of another list of images '
                             f'({progress_path}); write into a new folder')
        log(f'Continuing after {len(progress["shards"])} shards '
            f'({progress["next_file"]} of {len(files)} images)')

    def save_progress():
        with atomic_path(progress_path) as tmp, open(tmp, 'w') as file:
            json.dump(progress, file)

    start = progress['next_file']
    with multiprocessing.Pool(workers) if workers > 1 else _Serial() as pool:
        reasons = pool.imap(
            unreadable, [osp.join(root, name) for name in files[start:]], chunksize=16)
        skipped = {name for name, _ in progress['skipped']}

        def readable():  # checked as the shards are written, not all first
            for position, (name, reason) in enumerate(zip(files[start:], reasons), start=start):
                if reason is None:
                    yield position, name
                elif name not in skipped:  # (a resumed run checks a few files again)
                    log(f'Skipping unreadable image {osp.join(root, name)} ({reason})')
                    progress['skipped'].append([name, reason])
                    skipped.add(name)

        for group in _groups(root, readable(), samples_per_shard, max_shard_bytes):
            shard_name = f'{prefix}-{len(progress["shards"]):06d}.tar'
            with atomic_path(osp.join(out_dir, shard_name)) as tmp, tarfile.open(tmp, 'w') as tar:
                for position, name in group:
                    key = f'{position:09d}'
                    with open(osp.join(root, name), 'rb') as file:
                        _add(tar, f'{key}{osp.splitext(name)[1].lower()}', file.read())
                    _add(tar, f'{key}.json', json.dumps(dict(path=name)).encode())
            progress['shards'][shard_name] = len(group)
            progress['next_file'] = group[-1][0] + 1
            save_progress()
            log(f'Wrote {osp.join(out_dir, shard_name)} ({len(group)} images)')
    progress['next_file'] = len(files)
    save_progress()
    write_index(
        osp.join(out_dir, INDEX_NAME),
        progress['shards'],
        skipped=[name for name, _ in progress['skipped']])
    if progress['skipped']:
        log(f'{len(progress["skipped"])} unreadable images were skipped (listed in the index)')
    return progress['shards']


def _groups(root: str, files, samples_per_shard: int, max_shard_bytes: Optional[int]):
    """Consecutive runs of ``files`` that make one shard each."""
    group, size = [], 0
    for position, name in files:
        file_size = osp.getsize(osp.join(root, name)) + 2048  # with its headers and json
        if group and (len(group) == samples_per_shard or
                      (max_shard_bytes and size + file_size > max_shard_bytes)):
            yield group
            group, size = [], 0
        group.append((position, name))
        size += file_size
    if group:
        yield group


def count_samples(path: str) -> int:
    with open(path, 'rb') as file:
        return sum(1 for _ in iter_tar_samples(file))


class _Serial:
    """``multiprocessing.Pool``'s imap in this process."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    @staticmethod
    def imap(function, items, chunksize=1):
        return map(function, items)
