"""Checkpoint files: safe loading (safe_load.py), atomic writes (atomic.py), conversion from
other SimMIM code bases (conversion/), and the model zoo (model_zoo/, read from the model
index: model_index.py)."""
from .conversion import SOURCES, convert_checkpoint
from .errors import CheckpointError
from .safe_load import load_checkpoint_file

__all__ = ['CheckpointError', 'SOURCES', 'convert_checkpoint', 'load_checkpoint_file']
