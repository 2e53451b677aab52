from .swin import SimMIMSwinTransformer
from .swin_v2 import SimMIMSwinTransformerV2
from .vit import SimMIMViT

__all__ = ['SimMIMSwinTransformer', 'SimMIMSwinTransformerV2', 'SimMIMViT']
