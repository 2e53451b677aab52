from .bundled_photos import BundledPhotos
from .samplers import ResumableSampler, SeededSampleDataset
from .shards import WebDatasetShards
from .transforms import SimMIMMaskGenerator

__all__ = [
    'BundledPhotos', 'ResumableSampler', 'SeededSampleDataset', 'SimMIMMaskGenerator',
    'WebDatasetShards'
]
