from .algorithms import SimMIM
from .decoders import SimMIMDecoder
from .encoders import SimMIMSwinTransformer, SimMIMSwinTransformerV2, SimMIMViT
from .losses import SimMIMReconstructionLoss
from .utils import SimMIMPretrainedInit

__all__ = ['SimMIM', 'SimMIMDecoder', 'SimMIMPretrainedInit', 'SimMIMReconstructionLoss',
           'SimMIMSwinTransformer', 'SimMIMSwinTransformerV2', 'SimMIMViT']
