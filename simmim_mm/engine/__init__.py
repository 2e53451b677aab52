from .hooks import KNNMonitorHook, NonFiniteLossHook, ReconstructionHook
from .optimizers import AnyDeviceAmpOptimWrapper, BackboneLayerDecayOptimWrapperConstructor
from .schedulers import FullPhaseCosineAnnealingLR

__all__ = ['AnyDeviceAmpOptimWrapper', 'BackboneLayerDecayOptimWrapperConstructor',
           'FullPhaseCosineAnnealingLR', 'KNNMonitorHook', 'NonFiniteLossHook',
           'ReconstructionHook']
