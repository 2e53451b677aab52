"""mmpretrain (mmselfsup 1.x) SimMIM checkpoints -> simmim_mm.

The layouts are the same (``backbone.*``, ``backbone.mask_token``, ``neck.decoder.0.*``), so
this only drops the derived buffers and refuses anything else; the shape check against the
config then catches what differs, e.g. mmpretrain's Swin-L, trained with
``pad_small_map=True``, has 23x23 relative position tables in its last stage where the
official Swin (and our Swin-L/w12 pretraining config) shrinks that window to 6.
"""
from typing import Dict

from torch import Tensor

from ..errors import CheckpointError
from .key_mapping import DERIVED_BUFFERS, preview, rename_keys

MMPRETRAIN_RULES = [
    (DERIVED_BUFFERS, None),
    (r'backbone\.(.+)', r'backbone.\1'),
    (r'neck\.decoder\.0\.(weight|bias)', r'neck.decoder.0.\1'),
]


def mmpretrain_state_dict(checkpoint: dict, what: str) -> Dict[str, Tensor]:
    weights = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(weights, dict) or not any(k.startswith('backbone.') for k in weights):
        raise CheckpointError(f'{what}: no "state_dict" with "backbone." keys (top-level keys: '
                              f'{preview(checkpoint if isinstance(checkpoint, dict) else [])})')
    return weights


def convert_mmpretrain(checkpoint: dict, what: str = 'mmpretrain checkpoint') -> Dict[str, Tensor]:
    return rename_keys(mmpretrain_state_dict(checkpoint, what), MMPRETRAIN_RULES, what)
