from .fsdp_wrap_policy import encoder_block_wrap_policy
from .hooks import KNNMonitorHook, NonFiniteLossHook, ReconstructionHook, ResumePointHook
from .loops import ResumableEpochBasedTrainLoop
from .optimizers import AnyDeviceAmpOptimWrapper, BackboneLayerDecayOptimWrapperConstructor
from .runner import AtomicCheckpointHook, AtomicCheckpointRunner, RngStateHook
from .schedulers import FullPhaseCosineAnnealingLR

__all__ = ['AnyDeviceAmpOptimWrapper', 'AtomicCheckpointHook', 'AtomicCheckpointRunner',
           'BackboneLayerDecayOptimWrapperConstructor', 'FullPhaseCosineAnnealingLR',
           'KNNMonitorHook', 'NonFiniteLossHook', 'ReconstructionHook',
           'ResumableEpochBasedTrainLoop', 'ResumePointHook', 'RngStateHook',
           'encoder_block_wrap_policy']
