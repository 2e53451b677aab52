from .bundled_photos import BundledPhotos
from .samplers import ResumableSampler, SeededSampleDataset
from .transforms import SimMIMMaskGenerator

__all__ = ['BundledPhotos', 'ResumableSampler', 'SeededSampleDataset', 'SimMIMMaskGenerator']
