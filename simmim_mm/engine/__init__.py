from .fsdp_wrap_policy import encoder_block_wrap_policy
from .hooks import (
    AtomicCheckpointHook,
    KNNMonitorHook,
    NonFiniteLossHook,
    ReconstructionHook,
    ResumePointHook,
    RngStateHook,
)
from .loops import ResumableEpochBasedTrainLoop
from .optimizers import AnyDeviceAmpOptimWrapper, BackboneLayerDecayOptimWrapperConstructor
from .runner import AtomicCheckpointRunner
from .schedulers import FullPhaseCosineAnnealingLR

__all__ = [
    'AnyDeviceAmpOptimWrapper', 'AtomicCheckpointHook', 'AtomicCheckpointRunner',
    'BackboneLayerDecayOptimWrapperConstructor', 'FullPhaseCosineAnnealingLR', 'KNNMonitorHook',
    'NonFiniteLossHook', 'ReconstructionHook', 'ResumableEpochBasedTrainLoop', 'ResumePointHook',
    'RngStateHook', 'encoder_block_wrap_policy'
]
