"""Let ``torch.load(weights_only=True)``, torch's default since 2.6, read the checkpoints that
MMEngine's Runner writes.

MMEngine 0.10.7 calls torch.load without ``weights_only``, so under torch >= 2.6 resuming a run
or ``load_from`` fails with an UnpicklingError on its HistoryBuffer ("Unsupported global: GLOBAL
mmengine.logging.history_buffer.HistoryBuffer", open-mmlab/mmengine#1655). Rather than turning
weights_only off (which would unpickle arbitrary code from downloaded files), we allowlist
exactly what its checkpoints hold besides tensors and builtins: the message hub's
HistoryBuffer, the numpy arrays, scalars and dtypes inside it, and the
``getattr(HistoryBuffer, 'mean')``-style references to its statistics methods. getattr itself
is never allowed (a pickle could walk from any object to ``__globals__``): its name is bound
to a stand-in that resolves only those methods.

The allowlist is torch's (``torch.serialization.add_safe_globals``), so it holds for the whole
process. tests/test_compat/test_torch.py fails once MMEngine loads its own checkpoints under
torch's default without it.
"""
import pickle

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

_DEFAULT_STATISTICS = ('min', 'max', 'current', 'mean')


def history_buffer_method(owner, name: str):
    """Stands in for ``getattr`` while unpickling: resolves HistoryBuffer's statistics
    methods, refuses everything else."""
    if owner is HistoryBuffer and (name in _DEFAULT_STATISTICS
                                   or name in HistoryBuffer._statistics_methods):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({owner!r}, {name!r}); only HistoryBuffer statistics '
        'methods are allowed')


def mmengine_checkpoint_classes() -> list:
    """The classes and functions, besides torch's own, that an MMEngine 0.10.7 checkpoint's
    pickle names (its message hub's HistoryBuffer and the numpy state inside it)."""
    numpy_core = getattr(np, '_core', None) or np.core
    return [
        HistoryBuffer,
        numpy_core.multiarray._reconstruct,
        numpy_core.multiarray.scalar,
        np.ndarray,
        np.dtype,
        type(np.dtype(np.float64)),
        type(np.dtype(np.float32)),
        type(np.dtype(np.int64)),
    ]


def allow_mmengine_checkpoints() -> None:
    """Add MMEngine's checkpoint classes to torch's weights_only allowlist, process-wide."""
    torch.serialization.add_safe_globals(mmengine_checkpoint_classes() +
                                         [(history_buffer_method, 'builtins.getattr'),
                                          (history_buffer_method, '__builtin__.getattr')])
