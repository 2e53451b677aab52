from .dataset import WebDatasetShards
from .index import read_index, write_index
from .reader import ShardReadError, expand_shards, read_shard

__all__ = [
    'ShardReadError', 'WebDatasetShards', 'expand_shards', 'read_index', 'read_shard', 'write_index'
]
