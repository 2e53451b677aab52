from functools import partial

from mmpretrain.engine.optimizers import LearningRateDecayOptimWrapperConstructor

from simmim_mm.compat.mmengine import register_in_other_scopes
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
        super().add_params(params, module, prefix=prefix, get_layer_depth=get_layer_depth, **kwargs)


# mmdet / mmseg configs cannot name it as `simmim_mm.X` (see register_in_other_scopes)
register_in_other_scopes(
    BackboneLayerDecayOptimWrapperConstructor,
    'OPTIM_WRAPPER_CONSTRUCTORS',
    packages=('mmdet', 'mmseg'))
