from .algorithms import SimMIM
from .losses import SimMIMReconstructionLoss
from .necks import SimMIMDecoder

__all__ = ['SimMIM', 'SimMIMDecoder', 'SimMIMReconstructionLoss']
