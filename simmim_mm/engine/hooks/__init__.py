from .inpainting_baseline_hook import InpaintingBaselineHook
from .knn_monitor_hook import KNNMonitorHook
from .non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .reconstruction_hook import ReconstructionHook
from .resume_point_hook import ResumePointHook

__all__ = ['InpaintingBaselineHook', 'KNNMonitorHook', 'NonFiniteLossError', 'NonFiniteLossHook',
           'ReconstructionHook', 'ResumePointHook']
