"""Convert a SimMIM checkpoint from another code base into one that a simmim_mm config loads
unchanged (encoder, mask token and decoder, so pretraining can continue), or an official
fine-tuned classifier into an mmpretrain one.

The converted weights are checked key by key and shape by shape against the model of a
config (given, or the first that the model index names and they fit: config_match.py) before
anything is written, and the file is written under a temporary name and renamed.
"""
import os.path as osp
from typing import Callable, Dict, Optional

from torch import Tensor, nn

from ...package_files import MODEL_INDEX
from ..atomic import atomic_save
from ..errors import CheckpointError
from ..safe_load import load_checkpoint_file
from .config_match import build_model, match_config, shapes
from .huggingface import convert_huggingface
from .key_mapping import check_against
from .mmpretrain import convert_mmpretrain
from .official import convert_official

# --from NAME -> converter(checkpoint, what) -> state dict
SOURCES: Dict[str, Callable] = {
    'official': convert_official,
    'hf': convert_huggingface,
    'mmpretrain': convert_mmpretrain,
}


def with_derived_buffers(state_dict: Dict[str, Tensor], model: nn.Module) -> Dict[str, Tensor]:
    """Add the model's own relative_position_index / attn_mask buffers (dropped from the
    source, recomputed from the config's windows) so a strict load works."""
    out = dict(state_dict)
    for key, value in model.state_dict().items():
        out.setdefault(key, value.clone())
    return out


def convert_checkpoint(src: str,
                       dst: str,
                       source: str,
                       config: Optional[str] = None,
                       index: str = MODEL_INDEX) -> Optional[str]:
    """Convert ``src`` (format ``source``: a key of :data:`SOURCES`) to ``dst``; returns the
    config the weights were checked against: ``config``, else the first config that
    ``index`` (a model-index.yml) names and pretraining weights fit. A fine-tuned classifier
    is checked only against a ``config`` given (an mmpretrain classifier config), else
    returns None."""
    if source not in SOURCES:
        raise CheckpointError(f'unknown source format {source!r}; one of {sorted(SOURCES)}')
    if osp.abspath(src) == osp.abspath(dst):
        raise CheckpointError(f'{dst}: the output would overwrite the input')
    what = f'{src} (--from {source})'
    state_dict = SOURCES[source](load_checkpoint_file(src), what)
    pretraining = not any(k.startswith('head.') for k in state_dict)  # else a classifier
    model = None
    if config is not None:
        model = build_model(config)
        check_against(state_dict, shapes(model), f'{what} does not fit {config}')
    elif pretraining:
        config, model = match_config(state_dict, what, index)
    if model is not None:
        state_dict = with_derived_buffers(state_dict, model)
    shown = config
    if config is not None and '::' not in config:
        shown = osp.relpath(config, osp.dirname(index))
    meta = dict(converted_from=source, source_file=osp.basename(src), config=shown)
    atomic_save(dict(meta=meta, state_dict=state_dict), dst)
    return config
