from .feature_distill_loss import FeatureDistillLoss
from .reconstruction_loss import SimMIMReconstructionLoss, normalize_targets, upsample_mask
from .relation_distill_loss import RelationDistillLoss

__all__ = [
    'FeatureDistillLoss', 'RelationDistillLoss', 'SimMIMReconstructionLoss', 'normalize_targets',
    'upsample_mask'
]
