from .loading import LoadImageFromFileOrSkip, TooManyBadImagesError
from .mask_generator import SimMIMMaskGenerator
from .seeded_mask_generator import SeededSimMIMMaskGenerator
from .torch_resized_crop import TorchRandomResizedCrop, resize_bilinear_antialiased

__all__ = [
    'LoadImageFromFileOrSkip', 'SeededSimMIMMaskGenerator', 'SimMIMMaskGenerator',
    'TooManyBadImagesError', 'TorchRandomResizedCrop', 'resize_bilinear_antialiased'
]
