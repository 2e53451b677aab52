"""Tiny datasets in the layouts our transfer configs read (ImageNet, COCO, ADE20K), and the
config overrides that point a config at them and shrink detection and segmentation image
sizes for a CPU test."""
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
        annotations=[
            dict(
                id=1,
                image_id=1,
                category_id=1,
                bbox=[60.0, 50.0, 200.0, 160.0],
                area=32000.0,
                iscrowd=0,
                segmentation=[polygon])
        ],
        categories=[
            dict(id=i, name=name, supercategory=name)
            for i, name in enumerate(CocoDataset.METAINFO['classes'], 1)
        ])
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
            labels = np.repeat(
                np.repeat(rng.integers(0, 151, (10, 10), dtype=np.uint8), 30, 0), 40, 1)
            Image.fromarray(labels).save(osp.join(root, 'annotations', split, name + '.png'))
    return root


def shrunk_sizes(node, factor, floor, prefix=''):
    """``{dotted key: size}`` for every image size under ``node`` (``scale``, ``scales``,
    ``crop_size``, a pad's ``size``) scaled by ``factor``, no side below ``floor``: the
    overrides that ``Config.merge_from_dict`` (and ``--cfg-options``) apply, list indices
    included."""
    items = (
        node.items()
        if isinstance(node, dict) else enumerate(node) if isinstance(node, (list, tuple)) else ())
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


def tiny_data_options(cfg, task, root):
    """``--cfg-options`` (or ``Config.merge_from_dict``) that point every data loader of a
    ``task`` (mmdet, mmseg, mmpretrain) config at the tiny dataset in ``root``: batch 1 (2 for
    segmentation training: UperNet's pooling branch has a BatchNorm), no workers, and
    detection and segmentation image sizes shrunk to sizes that still take the real sizes'
    window paths (tests/test_configs_real_size.py checks them)."""
    options = {}
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        key = f'{split}_dataloader.'
        options.update({
            key + 'batch_size': 2 if task == 'mmseg' and split == 'train' else 1,
            key + 'num_workers': 0,
            key + 'persistent_workers': False
        })
        if loader.get('batch_sampler'):  # mmdet's AspectRatioBatchSampler wants batch > 1
            options[key + 'batch_sampler'] = None
        dataset, key = loader.dataset, key + 'dataset.'
        if dataset.type == 'RepeatDataset':
            dataset, key = dataset.dataset, key + 'dataset.'
        options[key + 'data_root'] = root
        if task == 'mmdet':
            # Swin: 800 x 1333 (3x: 480-800 short side) -> 320 x 533 (256-320): maps of 8 to
            # 25 tokens at the last stage, as at the real sizes (15 to 25): padded, never
            # smaller than 7. ViT: 1024 -> 512 (below)
            vit = cfg.model.backbone.type.endswith('ViT')
            options.update(
                shrunk_sizes(dataset.pipeline, 0.5 if vit else 0.4, 1 if vit else 256,
                             key + 'pipeline.'))
        elif task == 'mmseg':
            # 512 crops padded to 512 -> 256 crops padded to 256: stage maps 64, 32, 16, 8
            options.update(shrunk_sizes(dataset.pipeline, 0.5, 1, key + 'pipeline.'))
    for split in ('val', 'test'):
        if task == 'mmdet' and cfg.get(f'{split}_evaluator'):
            options[f'{split}_evaluator.ann_file'] = osp.join(root, 'annotations',
                                                              'instances_val2017.json')
    model = cfg.model
    if task == 'mmdet' and model.backbone.type.endswith('ViT'):
        # ViT at one fixed size (its position bias): 1024 -> 512, padded to it
        options['model.data_preprocessor.batch_augments.0.size'] = tuple(
            s // 2 for s in model.data_preprocessor.batch_augments[0].size)
        options['model.backbone.img_size'] = model.backbone.img_size // 2
    if task == 'mmseg':
        options['model.data_preprocessor.size'] = tuple(s // 2
                                                        for s in model.data_preprocessor.size)
        if model.backbone.type.endswith('ViT'):  # its relative position tables follow
            options['model.backbone.img_size'] = model.backbone.img_size // 2
        if model.test_cfg.get('mode') == 'slide':
            options.update({
                'model.test_cfg.crop_size':
                tuple(s // 2 for s in model.test_cfg.crop_size),
                'model.test_cfg.stride':
                tuple(s // 2 for s in model.test_cfg.stride)
            })
    return options


ELPV_CLASSES = ('p0', 'p33', 'p67', 'p100')


def elpv_folder(root, train_per_class=2, test_per_class=1, size=(300, 300), seed=0):
    """ELPV's prepared split (what the ELPV split tool writes): 8-bit grayscale cells
    images/cellNNNN.png, meta/{train,test}.txt ("<path> <class>"), meta/classes.txt (p0, p33,
    p67, p100) and meta/split.csv, with every class in both parts. Each class has its own
    gray level plus noise, so that a model can tell them apart."""
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(root, 'images'), exist_ok=True)
    os.makedirs(osp.join(root, 'meta'), exist_ok=True)
    rows, number = [], 0
    for split, per_class in (('train', train_per_class), ('test', test_per_class)):
        for label in range(len(ELPV_CLASSES)):
            for _ in range(per_class):
                number += 1
                name = f'cell{number:04d}.png'
                pixels = rng.normal(60 + 50 * label, 20, size).clip(0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(osp.join(root, 'images', name))
                rows.append((name, label, 'mono' if number % 2 else 'poly', split))
    for split in ('train', 'test'):
        with open(osp.join(root, 'meta', f'{split}.txt'), 'w') as f:
            f.writelines(f'{name} {label}\n' for name, label, _, s in rows if s == split)
    with open(osp.join(root, 'meta', 'classes.txt'), 'w') as f:
        f.writelines(f'{name}\n' for name in ELPV_CLASSES)
    with open(osp.join(root, 'meta', 'split.csv'), 'w') as f:
        f.write('path,label,group,split\n')
        f.writelines(f'{name},{label},{group},{split}\n' for name, label, group, split in rows)
    return root


def is_prepared_split(dataset):
    """Whether a config's dataset reads the prepared-split layout (elpv_folder)."""
    return dataset.get('ann_file') == 'meta/train.txt' and dataset.get('data_prefix') == 'images'
