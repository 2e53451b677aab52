import importlib
from functools import partial

from mmpretrain.engine.optimizers import LearningRateDecayOptimWrapperConstructor

from simmim_mm.registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class BackboneLayerDecayOptimWrapperConstructor(LearningRateDecayOptimWrapperConstructor):
    """mmpretrain's layer-wise lr decay for any model with a Swin / ViT ``backbone``:
    detectors and segmentors too, which mmdet and mmseg lack for Swin.

    Layer depths come from ``backbone.get_layer_depth`` (the official SimMIM ids: patch embed
    0, block j of stage i ``sum(depths[:i]) + j + 1``, ...); necks and heads take the last
    depth, i.e. the full lr. Registered in the simmim_mm, mmdet and mmseg scopes:
    ``constructor='BackboneLayerDecayOptimWrapperConstructor'`` with
    ``paramwise_cfg=dict(layer_decay_rate=...)``.
    """

    def add_params(self, params, module, prefix='', get_layer_depth=None, **kwargs):
        if get_layer_depth is None and not hasattr(module, 'get_layer_depth'):
            get_layer_depth = partial(module.backbone.get_layer_depth, prefix='backbone.')
        super().add_params(params, module, prefix=prefix, get_layer_depth=get_layer_depth,
                           **kwargs)


# A scoped name (`simmim_mm.X`) does not resolve from mmdet / mmseg configs, since our
# registries hang below mmpretrain's: register the constructor in their scopes as well.
for _package in ('mmdet', 'mmseg'):
    try:
        _registry = importlib.import_module(f'{_package}.registry')
    except ImportError:
        continue
    _registry.OPTIM_WRAPPER_CONSTRUCTORS.register_module(
        module=BackboneLayerDecayOptimWrapperConstructor)
