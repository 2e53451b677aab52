"""The index written next to a set of shards: how many samples each shard holds, so that an
epoch's length is known without reading the shards (schedulers, ``auto_scale_lr``)."""
import json
import posixpath
from typing import Dict, Optional

from simmim_mm.checkpoint.atomic import atomic_path
from simmim_mm.datasets.shards.reader import open_stream, spaceless_pipe_hint

INDEX_NAME = 'index.json'
INDEX_FORMAT = 'simmim_mm.shards/1'


def write_index(path: str, samples_per_shard: Dict[str, int], skipped=()) -> None:
    """Write the index (shard file name -> number of samples, and the unreadable images the
    shards leave out) atomically."""
    index = dict(
        format=INDEX_FORMAT,
        samples=sum(samples_per_shard.values()),
        shards=samples_per_shard,
        skipped=list(skipped))
    with atomic_path(path) as tmp, open(tmp, 'w') as file:
        json.dump(index, file, indent=1)


def read_index(url: str, timeout: float = 60) -> Dict[str, int]:
    """Shard file name -> number of samples, from a local, ``http(s)://`` or ``pipe:`` index;
    an index that is not one names the file and what is wrong."""
    try:
        with open_stream(url, timeout) as stream:
            index = json.loads(stream.read())
    except (OSError, ValueError) as error:
        raise ValueError(f'cannot read the shard index {url}: {error}. Write it with '
                         f'tools/dataset_converters/images_to_shards.py (--index-only for '
                         f'existing shards){spaceless_pipe_hint(url)}') from error
    shards = index.get('shards') if isinstance(index, dict) else None
    if (not isinstance(shards, dict)
            or not all(isinstance(count, int) and count >= 0 for count in shards.values())):
        raise ValueError(f'{url}: not a shard index ("shards" must map shard file names to '
                         f'sample counts)')
    return shards


def default_index_url(shard_url: str) -> Optional[str]:
    """``index.json`` in the folder of a local or http(s) shard; None for ``pipe:``."""
    if shard_url.startswith('pipe:'):
        return None
    return posixpath.join(posixpath.dirname(shard_url), INDEX_NAME)
