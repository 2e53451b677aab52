from .loading import LoadImageFromFileOrSkip, TooManyBadImagesError
from .mask_generator import SimMIMMaskGenerator
from .seeded_mask_generator import SeededSimMIMMaskGenerator

__all__ = ['LoadImageFromFileOrSkip', 'SeededSimMIMMaskGenerator', 'SimMIMMaskGenerator',
           'TooManyBadImagesError']
