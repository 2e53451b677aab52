from .reconstruction_loss import SimMIMReconstructionLoss, normalize_targets, upsample_mask

__all__ = ['SimMIMReconstructionLoss', 'normalize_targets', 'upsample_mask']
