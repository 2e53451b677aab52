from .mask_generator import SimMIMMaskGenerator

__all__ = ['SimMIMMaskGenerator']
