from .non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .reconstruction_hook import ReconstructionHook

__all__ = ['NonFiniteLossError', 'NonFiniteLossHook', 'ReconstructionHook']
