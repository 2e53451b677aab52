"""Convert a SimMIM checkpoint from another code base into one that a simmim_mm config loads
unchanged (encoder, mask token and decoder, so pretraining can continue), or an official
fine-tuned classifier into an mmpretrain one.

The converted weights are checked key by key and shape by shape against the model of a
config (given, or the one among configs/**/simmim_*.py that they fit) before anything is
written, and the file is written under a temporary name and renamed.
"""
import glob
import os.path as osp
from typing import Callable, Dict, List, Optional, Tuple

from mmengine.config import Config
from mmengine.registry import DefaultScope
from torch import Tensor, nn

from ..package_files import CONFIG_DIR
from .atomic import atomic_save
from .huggingface import convert_huggingface
from .key_mapping import CheckpointError, check_against, mismatches
from .mmpretrain import convert_mmpretrain
from .official import convert_official
from .safe_load import load_checkpoint_file


# --from NAME -> converter(checkpoint, what) -> state dict
SOURCES: Dict[str, Callable] = {
    'official': convert_official,
    'hf': convert_huggingface,
    'mmpretrain': convert_mmpretrain,
}


def load_config(config: str) -> Config:
    """A config file, or ``package::path`` inside an installed OpenMMLab package (e.g.
    ``mmpretrain::simmim/benchmarks/swin-base-w7_8xb256-coslr-100e_in1k.py``)."""
    if '::' in config:
        from mmengine.hub import get_config
        return get_config(config)
    if not osp.isfile(config):
        raise CheckpointError(f'{config}: no such config file')
    return Config.fromfile(config)


def build_model(config: str) -> nn.Module:
    """The model of ``config``, built (not initialised) in the simmim_mm scope."""
    from simmim_mm.registry import MODELS
    cfg = load_config(config)
    with DefaultScope.overwrite_default_scope('simmim_mm'):
        return MODELS.build(cfg.model)


def _stem_width(state_dict: Dict[str, Tensor]) -> Optional[int]:
    weight = state_dict.get('backbone.patch_embed.projection.weight')
    return None if weight is None else weight.shape[0]


def _config_width(config: str) -> Optional[int]:
    """The encoder width a config asks for, read from its backbone's ``arch_zoo`` without
    building it (building every config would take seconds each)."""
    from simmim_mm.registry import MODELS
    backbone = load_config(config).model.get('backbone', {})
    arch = backbone.get('arch')
    if isinstance(arch, dict):
        return arch.get('embed_dims')
    with DefaultScope.overwrite_default_scope('simmim_mm'):
        cls = MODELS.get(backbone.get('type'))
    zoo = getattr(cls, 'arch_zoo', {})
    for names, settings in zoo.items():
        if arch in (names if isinstance(names, (tuple, list, set)) else (names, )):
            return settings.get('embed_dims')
    return None


def candidate_configs(state_dict: Dict[str, Tensor], config_dir: str = CONFIG_DIR) -> List[str]:
    """The configs/**/simmim_*.py (not the ``_base_`` parts) whose encoder width matches the
    checkpoint's."""
    width = _stem_width(state_dict)
    configs = sorted(c for c in glob.glob(osp.join(config_dir, '**', 'simmim_*.py'),
                                          recursive=True)
                     if '_base_' not in osp.relpath(c, config_dir).split(osp.sep))
    return [c for c in configs if width is None or _config_width(c) in (width, None)]


def shapes(model: nn.Module) -> Dict[str, tuple]:
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def match_config(state_dict: Dict[str, Tensor], what: str,
                 config_dir: str = CONFIG_DIR) -> Tuple[str, nn.Module]:
    """The first config whose model the weights fit exactly; else an error listing why the
    closest ones do not."""
    reasons = {}
    for config in candidate_configs(state_dict, config_dir):
        model = build_model(config)
        problems = mismatches(state_dict, shapes(model))
        if not problems:
            return config, model
        reasons[config] = problems
    if not reasons:
        raise CheckpointError(f'{what}: no config in {config_dir} has an encoder of width '
                              f'{_stem_width(state_dict)}; pass --config')
    detail = '\n'.join(f'  {osp.basename(c)}: ' + '; '.join(p[:3])
                       for c, p in sorted(reasons.items(), key=lambda cp: len(cp[1]))[:3])
    raise CheckpointError(f'{what}: fits no config in {config_dir}; closest:\n{detail}')


def with_derived_buffers(state_dict: Dict[str, Tensor], model: nn.Module) -> Dict[str, Tensor]:
    """Add the model's own relative_position_index / attn_mask buffers (dropped from the
    source, recomputed from the config's windows) so a strict load works."""
    out = dict(state_dict)
    for key, value in model.state_dict().items():
        out.setdefault(key, value.clone())
    return out


def convert_checkpoint(src: str, dst: str, source: str, config: Optional[str] = None,
                       config_dir: str = CONFIG_DIR) -> Optional[str]:
    """Convert ``src`` (format ``source``: a key of :data:`SOURCES`) to ``dst``; returns the
    config the weights were checked against. A fine-tuned classifier is checked only
    against a ``config`` given (an mmpretrain classifier config), else returns None."""
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
        config, model = match_config(state_dict, what, config_dir)
    if model is not None:
        state_dict = with_derived_buffers(state_dict, model)
    shown = config
    if config is not None and '::' not in config:
        shown = osp.relpath(config, osp.dirname(config_dir))
    meta = dict(converted_from=source, source_file=osp.basename(src), config=shown)
    atomic_save(dict(meta=meta, state_dict=state_dict), dst)
    return config
