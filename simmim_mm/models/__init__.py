from .algorithms import SimMIM
from .decoders import SimMIMDecoder
from .encoders import SimMIMSwinTransformerV2, SimMIMViT
from .losses import SimMIMReconstructionLoss
from .utils import SimMIMPretrainedInit

__all__ = ['SimMIM', 'SimMIMDecoder', 'SimMIMPretrainedInit', 'SimMIMReconstructionLoss',
           'SimMIMSwinTransformerV2', 'SimMIMViT']
