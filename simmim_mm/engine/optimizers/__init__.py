from .amp_optim_wrapper import AnyDeviceAmpOptimWrapper
from .distiller_constructor import DistillerOptimWrapperConstructor
from .layer_decay_constructor import BackboneLayerDecayOptimWrapperConstructor

__all__ = [
    'AnyDeviceAmpOptimWrapper', 'BackboneLayerDecayOptimWrapperConstructor',
    'DistillerOptimWrapperConstructor'
]
