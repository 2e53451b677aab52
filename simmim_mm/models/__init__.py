from .algorithms import SimMIM
from .decoders import SimMIMDecoder
from .encoders import SimMIMSwinTransformerV2, SimMIMViT
from .losses import SimMIMReconstructionLoss

__all__ = ['SimMIM', 'SimMIMDecoder', 'SimMIMReconstructionLoss', 'SimMIMSwinTransformerV2',
           'SimMIMViT']
