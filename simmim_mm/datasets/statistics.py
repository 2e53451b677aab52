"""Per-channel mean and std of a dataset's images, for the data preprocessor's mean / std."""
from typing import Iterable, List, Optional, Tuple

import numpy as np


class ChannelStatistics:
    """Streaming per-channel mean and (population) std over every pixel of many images, in
    float64: each image's mean and sum of squared deviations are merged into the running ones
    (Chan et al.'s pairwise update), so that 16-bit and float images with a small spread
    around a large mean lose no precision, as a sum of squares would."""

    def __init__(self):
        self.count = 0  # pixels per channel
        self.mean: Optional[np.ndarray] = None
        self.m2: Optional[np.ndarray] = None  # sum of squared deviations from the mean
        self.images = 0
        self.dtypes: List[str] = []

    @property
    def channels(self) -> Optional[int]:
        return None if self.mean is None else len(self.mean)

    def add(self, img: np.ndarray, name: str = 'image') -> None:
        """Add an (H, W) or (H, W, C) image; every image must have the first one's channels."""
        pixels = np.asarray(img).reshape(img.shape[0] * img.shape[1], -1).astype(np.float64)
        if self.channels is not None and pixels.shape[1] != self.channels:
            raise ValueError(f'{name} has {pixels.shape[1]} channels, the images before it '
                             f'{self.channels}: a dataset needs one channel count')
        if str(img.dtype) not in self.dtypes:
            self.dtypes.append(str(img.dtype))
        count, mean = len(pixels), pixels.mean(axis=0)
        m2 = ((pixels - mean)**2).sum(axis=0)
        if self.mean is None:
            self.count, self.mean, self.m2 = count, mean, m2
        else:
            total = self.count + count
            delta = mean - self.mean
            self.mean = self.mean + delta * count / total
            self.m2 = self.m2 + m2 + delta**2 * self.count * count / total
            self.count = total
        self.images += 1

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(self.m2 / self.count)


def dataset_statistics(
        samples: Iterable[dict],
        loader,
        max_images: Optional[int] = None) -> Tuple[ChannelStatistics, List[Tuple[str, str]]]:
    """The statistics of the images that ``loader`` (a LoadImageFromFileOrSkip, so that they
    are decoded as training decodes them) reads from ``samples`` (dicts with ``img_path``, as
    a dataset's data list holds), at most ``max_images`` of them read; and the (path, reason)
    of each file the loader skipped."""
    stats = ChannelStatistics()
    for read, sample in enumerate(samples):
        if max_images is not None and read >= max_images:
            break
        results = loader.transform(dict(sample))
        if results is not None:
            stats.add(results['img'], sample['img_path'])
    return stats, list(loader.bad)
