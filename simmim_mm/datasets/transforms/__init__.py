from .loading import LoadImageFromFileOrSkip, TooManyBadImagesError
from .mask_generator import SimMIMMaskGenerator

__all__ = ['LoadImageFromFileOrSkip', 'SimMIMMaskGenerator', 'TooManyBadImagesError']
