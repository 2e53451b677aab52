from .algorithms import MIMDistiller, SimMIM
from .decoders import SimMIMDecoder
from .encoders import SimMIMSwinTransformer, SimMIMSwinTransformerV2, SimMIMViT
from .heads import SimMIMReconstructionHead
from .losses import FeatureDistillLoss, RelationDistillLoss, SimMIMReconstructionLoss
from .utils import MultiChannelDataPreprocessor, SimMIMPretrainedInit

__all__ = [
    'FeatureDistillLoss', 'MIMDistiller', 'MultiChannelDataPreprocessor', 'RelationDistillLoss',
    'SimMIM', 'SimMIMDecoder', 'SimMIMPretrainedInit', 'SimMIMReconstructionHead',
    'SimMIMReconstructionLoss', 'SimMIMSwinTransformer', 'SimMIMSwinTransformerV2', 'SimMIMViT'
]
