"""An ImageNet-like JPEG folder made from the bundled photos, so the data pipeline can be
measured on any machine without downloading ImageNet."""
import os
import os.path as osp
from typing import List

import numpy as np
from PIL import Image

from simmim_mm.checkpoint.atomic import atomic_path
from simmim_mm.datasets.bundled_photos import SKIMAGE_PHOTOS

# ImageNet's typical training image: about 500 x 375, JPEG quality around 90
IMAGENET_LIKE_SIZE = (500, 375)
IMAGENET_LIKE_QUALITY = 90


def generate_jpeg_set(out_dir: str, count: int, seed: int = 0) -> List[str]:
    """Write ``count`` JPEGs (random crops of the bundled photos resized to 500x375 or
    375x500, quality 90) into ``out_dir``; existing files of the same name are reused."""
    from skimage.data import data_dir
    rng = np.random.default_rng(seed)
    os.makedirs(out_dir, exist_ok=True)
    sources = [Image.open(osp.join(data_dir, name)).convert('RGB') for name in SKIMAGE_PHOTOS]
    paths = []
    for i in range(count):
        path = osp.join(out_dir, f'{i:06d}.jpg')
        paths.append(path)
        if osp.exists(path):
            continue
        photo = sources[i % len(sources)]
        size = IMAGENET_LIKE_SIZE if rng.random() < 0.75 else IMAGENET_LIKE_SIZE[::-1]
        scale = rng.uniform(0.6, 1.0)
        crop_w = int(photo.width * scale)
        crop_h = min(photo.height, int(crop_w * size[1] / size[0]))
        left = int(rng.integers(0, photo.width - crop_w + 1))
        top = int(rng.integers(0, photo.height - crop_h + 1))
        image = photo.crop((left, top, left + crop_w, top + crop_h)).resize(size, Image.BICUBIC)
        if rng.random() < 0.5:
            image = image.transpose(Image.FLIP_LEFT_RIGHT)
        with atomic_path(path) as tmp:
            image.save(tmp, format='JPEG', quality=IMAGENET_LIKE_QUALITY)
    return paths
