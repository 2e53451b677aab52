from .reconstruction_loss import ReconstructionLossMetric

__all__ = ['ReconstructionLossMetric']
