from .convert import SOURCES, convert_checkpoint
from .key_mapping import CheckpointError
from .mmengine_compat import allow_mmengine_checkpoints, mmengine_checkpoint_classes
from .safe_load import load_checkpoint_file

__all__ = [
    'allow_mmengine_checkpoints', 'mmengine_checkpoint_classes', 'CheckpointError',
    'SOURCES', 'convert_checkpoint', 'load_checkpoint_file'
]
