from .reconstruction_loss import SimMIMReconstructionLoss, upsample_mask

__all__ = ['SimMIMReconstructionLoss', 'upsample_mask']
