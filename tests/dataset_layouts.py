"""Tiny datasets in the layouts our transfer configs read (ImageNet, COCO, ADE20K), and the
overrides that shrink a detection or segmentation config's image sizes for a CPU test."""
import json
import os
import os.path as osp

import numpy as np
from PIL import Image

from conftest import make_images


def imagenet_folder(root, count=2):
    """ImageNet's train/ and val/ with meta/{train,val}.txt (1000 class folders would be
    needed without)."""
    for split in ('train', 'val'):
        paths = make_images(osp.join(root, split), count=count, size=(256, 320))
        os.makedirs(osp.join(root, 'meta'), exist_ok=True)
        with open(osp.join(root, 'meta', f'{split}.txt'), 'w') as f:
            f.writelines(f'{osp.relpath(p, osp.join(root, split))} {i * 7}\n'
                         for i, p in enumerate(paths))
    return root


def coco_folder(root):
    """One 300 x 400 image with one annotated person, in COCO's train2017 and val2017
    layout, with COCO's 80 categories (a detector predicts any of them)."""
    from mmdet.datasets import CocoDataset
    os.makedirs(osp.join(root, 'annotations'))
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    polygon = [60.0, 50.0, 260.0, 50.0, 260.0, 210.0, 60.0, 210.0]
    ann = dict(
        images=[dict(id=1, file_name='000000000001.jpg', height=300, width=400)],
        annotations=[dict(id=1, image_id=1, category_id=1, bbox=[60.0, 50.0, 200.0, 160.0],
                          area=32000.0, iscrowd=0, segmentation=[polygon])],
        categories=[dict(id=i, name=name, supercategory=name)
                    for i, name in enumerate(CocoDataset.METAINFO['classes'], 1)])
    for split in ('train2017', 'val2017'):
        os.makedirs(osp.join(root, split))
        Image.fromarray(pixels).save(osp.join(root, split, '000000000001.jpg'))
        with open(osp.join(root, 'annotations', f'instances_{split}.json'), 'w') as f:
            json.dump(ann, f)
    return root


def ade_folder(root):
    """Two 300 x 400 images and label maps (0 = ignored, classes 1-150) for training and
    for validation, in ADE20K's layout."""
    rng = np.random.default_rng(0)
    for split in ('training', 'validation'):
        for sub in ('images', 'annotations'):
            os.makedirs(osp.join(root, sub, split))
        for i in (1, 2):
            name = f'ADE_{"train" if split == "training" else "val"}_{i:08d}'
            Image.fromarray(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)).save(
                osp.join(root, 'images', split, name + '.jpg'))
            labels = np.repeat(np.repeat(rng.integers(0, 151, (10, 10), dtype=np.uint8), 30,
                                         0), 40, 1)
            Image.fromarray(labels).save(osp.join(root, 'annotations', split, name + '.png'))
    return root


def shrunk_sizes(node, factor, floor, prefix=''):
    """``{dotted key: size}`` for every image size under ``node`` (``scale``, ``scales``,
    ``crop_size``, a pad's ``size``) scaled by ``factor``, no side below ``floor``: the
    overrides that ``Config.merge_from_dict`` (and ``--cfg-options``) apply, list indices
    included."""
    items = (node.items() if isinstance(node, dict)
             else enumerate(node) if isinstance(node, (list, tuple)) else ())
    found = {}
    for key, value in items:
        dotted = f'{prefix}{key}'
        if key in ('scale', 'scales', 'crop_size', 'size'):
            found[dotted] = _scaled(value, factor, floor)
        else:
            found.update(shrunk_sizes(value, factor, floor, dotted + '.'))
    return found


def _scaled(value, factor, floor):
    if isinstance(value, (list, tuple)):
        return type(value)(_scaled(v, factor, floor) for v in value)
    return max(floor, int(round(value * factor)))
