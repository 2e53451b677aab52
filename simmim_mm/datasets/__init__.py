from .bundled_photos import BundledPhotos
from .transforms import SimMIMMaskGenerator

__all__ = ['BundledPhotos', 'SimMIMMaskGenerator']
