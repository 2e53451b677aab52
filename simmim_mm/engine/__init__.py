from .hooks import ReconstructionHook
from .optimizers import AnyDeviceAmpOptimWrapper
from .schedulers import FullPhaseCosineAnnealingLR

__all__ = ['AnyDeviceAmpOptimWrapper', 'FullPhaseCosineAnnealingLR', 'ReconstructionHook']
