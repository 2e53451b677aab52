from .reconstruction_head import SimMIMReconstructionHead

__all__ = ['SimMIMReconstructionHead']
