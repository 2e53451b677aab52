from .atomic_checkpoint_hook import AtomicCheckpointHook
from .inpainting_baseline_hook import InpaintingBaselineHook
from .knn_monitor_hook import KNNMonitorHook
from .non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .reconstruction_hook import ReconstructionHook
from .resume_point_hook import ResumePointHook
from .rng_state_hook import RngStateHook

__all__ = [
    'AtomicCheckpointHook', 'InpaintingBaselineHook', 'KNNMonitorHook', 'NonFiniteLossError',
    'NonFiniteLossHook', 'ReconstructionHook', 'ResumePointHook', 'RngStateHook'
]
