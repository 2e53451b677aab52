from .swin_v2 import SimMIMSwinTransformerV2
from .vit import SimMIMViT

__all__ = ['SimMIMSwinTransformerV2', 'SimMIMViT']
