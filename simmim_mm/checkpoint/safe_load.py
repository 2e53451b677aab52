"""Read checkpoint files without running code from them.

Every pickle goes through ``torch.load(weights_only=True)``: only tensors, containers and an
allowlist of classes can be built. Official microsoft/SimMIM files also pickle their yacs
``CfgNode`` config; instead of importing yacs (whose class could be anything on a hostile
file's machine), its name is bound to :class:`CfgNodeAsDict`, which rebuilds the node as a
plain OrderedDict and runs none of yacs' code. ``.safetensors`` files hold tensors only.
"""
import os.path as osp
import pickle
from collections import OrderedDict
from typing import Optional

import torch

from .errors import CheckpointError


class CfgNodeAsDict:
    """Stands in for ``yacs.config.CfgNode`` while unpickling: becomes an OrderedDict, which
    torch's weights-only unpickler lets take the node's items and attributes."""

    def __new__(cls, *args, **kwargs):
        return OrderedDict()


OFFICIAL_CHECKPOINT_GLOBALS = [(CfgNodeAsDict, 'yacs.config.CfgNode')]


def refusal_reason(error: Exception) -> Optional[str]:
    """The line of torch's weights-only message naming what it refused to build or call
    (a global, a reduce), or None when the file is merely unreadable."""
    for line in str(error).splitlines():
        line = line.strip()
        if 'GLOBAL' in line or line.startswith(('Trying', 'Can only', 'Unsupported global')):
            return line
    return None


def unreadable_reason(error: Exception) -> str:
    """The last line of torch's message that is neither its advice nor its doc link."""
    lines = [
        line.strip() for line in str(error).splitlines()
        if line.strip() and not line.startswith(('Weights only load failed',
                                                 'Check the documentation', 'Please file an issue'))
    ]
    return lines[-1] if lines else type(error).__name__


def load_checkpoint_file(path: str) -> dict:
    """Load ``path`` (torch pickle or safetensors) on CPU; refuse anything that would need
    arbitrary code, naming the file and the refused global."""
    if not osp.isfile(path):
        raise CheckpointError(f'{path}: no such file')
    if path.endswith('.safetensors'):
        from safetensors.torch import load_file
        return load_file(path, device='cpu')
    try:
        with torch.serialization.safe_globals(OFFICIAL_CHECKPOINT_GLOBALS):
            return torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as error:
        refused = refusal_reason(error)
        if refused:
            raise CheckpointError(f'{path}: refused to load, its pickle needs more than '
                                  f'weights (weights_only=True): {refused}') from None
        raise CheckpointError(f'{path}: not a readable checkpoint '
                              f'({unreadable_reason(error)})') from None
    except (RuntimeError, EOFError, ValueError) as error:
        raise CheckpointError(f'{path}: not a readable checkpoint '
                              f'({unreadable_reason(error)})') from None
