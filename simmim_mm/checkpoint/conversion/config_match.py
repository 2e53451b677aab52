"""The config whose model converted weights fit: given, or found among the configs that the
model index names (each model's ``Config`` in configs/metafile.yml), never by file name."""
import os.path as osp
from typing import Dict, List, Optional, Tuple

from mmengine.config import Config
from mmengine.registry import DefaultScope
from torch import Tensor, nn

from ...package_files import MODEL_INDEX
from ..errors import CheckpointError
from ..model_index import package_configs
from .key_mapping import mismatches


def config_from_file_or_package(config: str) -> Config:
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
    cfg = config_from_file_or_package(config)
    with DefaultScope.overwrite_default_scope('simmim_mm'):
        return MODELS.build(cfg.model)


def shapes(model: nn.Module) -> Dict[str, tuple]:
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def _stem_width(state_dict: Dict[str, Tensor]) -> Optional[int]:
    weight = state_dict.get('backbone.patch_embed.projection.weight')
    return None if weight is None else weight.shape[0]


def _config_width(config: str) -> Optional[int]:
    """The encoder width a config asks for, read from its backbone's ``arch_zoo`` without
    building it (building every config would take seconds each)."""
    from simmim_mm.registry import MODELS
    backbone = config_from_file_or_package(config).model.get('backbone', {})
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


def candidate_configs(state_dict: Dict[str, Tensor], index: str = MODEL_INDEX) -> List[str]:
    """The configs the model index names whose encoder width matches the checkpoint's."""
    width = _stem_width(state_dict)
    return [c for c in package_configs(index) if width is None or _config_width(c) in (width, None)]


def match_config(state_dict: Dict[str, Tensor],
                 what: str,
                 index: str = MODEL_INDEX) -> Tuple[str, nn.Module]:
    """The first config whose model the weights fit exactly; else an error listing why the
    closest ones do not."""
    reasons = {}
    for config in candidate_configs(state_dict, index):
        model = build_model(config)
        problems = mismatches(state_dict, shapes(model))
        if not problems:
            return config, model
        reasons[config] = problems
    if not reasons:
        raise CheckpointError(f'{what}: no config named in {index} has an encoder of width '
                              f'{_stem_width(state_dict)}; pass --config')
    detail = '\n'.join(f'  {osp.basename(c)}: ' + '; '.join(p[:3])
                       for c, p in sorted(reasons.items(), key=lambda cp: len(cp[1]))[:3])
    raise CheckpointError(f'{what}: fits no config named in {index}; closest:\n{detail}')
