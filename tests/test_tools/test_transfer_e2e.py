"""The chain users come for, end to end through tools/train.py and tools/test.py: a tiny
SimMIM pretraining, then ImageNet-style classification, COCO Mask R-CNN and ADE20K UperNet
fine-tuned from its checkpoint for 2 iterations with an evaluation pass each, then evaluated
again by tools/test.py in each config's own scope. Tiny generated datasets in each format."""
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import REPO_ROOT, demo_config, make_images

TINY_SWIN = "dict(_delete_=True, embed_dims=48, depths=[2, 2, 2, 2], num_heads=[3, 6, 12, 24])"
CHANNELS = [48, 96, 192, 384]
FINETUNE_CONFIG = osp.join(REPO_ROOT, 'configs', 'finetune',
                           'swin-base-w7_simmim-100e-pre_16xb128-coslr-100e_in1k-224px.py')


def run_tool(tool, *args):
    result = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'tools', tool), *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


def write(path, text):
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


@pytest.fixture(scope='module')
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp('transfer')


@pytest.fixture(scope='module')
def simmim_checkpoint(workdir):
    images = workdir / 'pretrain_images'
    make_images(images, count=4)
    config = write(
        workdir / 'pretrain.py',
        demo_config(
            str(images),
            2,
            tiny_model=False,
            param_scheduler=None,
            checkpoint_interval=2,
            log_interval=None))
    run_tool('train.py', config, '--work-dir', str(workdir / 'pretrain'))
    return str(workdir / 'pretrain' / 'iter_2.pth')


def imagenet_folder(root):
    """ImageNet layout: split/class/file plus meta/<split>.txt with 'class/file label'."""
    os.makedirs(root / 'meta', exist_ok=True)
    for split, count in (('train', 4), ('val', 2)):
        paths = make_images(root / split, count=count, seed=count)
        lines = [f'{osp.relpath(p, root / split)} {i % 2}' for i, p in enumerate(paths)]
        write(root / 'meta' / f'{split}.txt', '\n'.join(lines) + '\n')


def coco_folder(root):
    """COCO instances: images/ plus ann.json with one box and polygon per image."""
    os.makedirs(root / 'images', exist_ok=True)
    rng = np.random.default_rng(0)
    images, annotations = [], []
    for i in range(4):
        img = rng.integers(0, 60, (96, 128, 3), dtype=np.uint8)
        x, y, w, h = [int(v) for v in rng.integers(10, 40, 4)]
        img[y:y + h, x:x + w] = 220
        Image.fromarray(img).save(root / 'images' / f'{i}.jpg')
        images.append(dict(id=i + 1, file_name=f'{i}.jpg', width=128, height=96))
        annotations.append(
            dict(
                id=i + 1,
                image_id=i + 1,
                category_id=1,
                iscrowd=0,
                bbox=[x, y, w, h],
                area=w * h,
                segmentation=[[x, y, x + w, y, x + w, y + h, x, y + h]]))
    write(
        root / 'ann.json',
        json.dumps(
            dict(images=images, annotations=annotations, categories=[dict(id=1, name='blob')])))


def ade_folder(root):
    """ADE20K layout: images/{training,validation}/*.jpg, annotations/.../*.png (0 = other)."""
    rng = np.random.default_rng(0)
    for split, count in (('training', 4), ('validation', 2)):
        os.makedirs(root / 'images' / split, exist_ok=True)
        os.makedirs(root / 'annotations' / split, exist_ok=True)
        for i in range(count):
            label = np.ones((96, 96), np.uint8)
            label[:, 48:] = 2 + i % 2
            img = (label[..., None] * 60 + rng.integers(0, 30, (96, 96, 3))).astype(np.uint8)
            Image.fromarray(img).save(root / 'images' / split / f'{i}.jpg')
            Image.fromarray(label).save(root / 'annotations' / split / f'{i}.png')


def classification_config(root, ckpt):
    imagenet_folder(root)
    loader = (f"dict(batch_size=2, num_workers=0, persistent_workers=False, "
              f"dataset=dict(data_root={str(root)!r}, split='{{}}'))")
    return f"""
_base_ = {FINETUNE_CONFIG!r}
model = dict(backbone=dict(arch={TINY_SWIN}, init_cfg=dict(checkpoint={ckpt!r})),
             head=dict(num_classes=2, in_channels={CHANNELS[-1]}))
data_preprocessor = dict(num_classes=2)
train_dataloader = {loader.format('train')}
val_dataloader = {loader.format('val')}
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=1)
auto_scale_lr = dict(enable=False)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
default_hooks = dict(logger=dict(interval=1))
""", 'epoch_1.pth', 'accuracy/top1'


def detection_config(root, ckpt):
    coco_folder(root)
    return f"""
_base_ = {osp.join(REPO_ROOT, 'configs', 'downstream', 'mmdet',
                   'mask-rcnn_swin-base-w7-simmim-100e-pre_fpn_8xb2-1x_coco.py')!r}
model = dict(backbone=dict(arch={TINY_SWIN}, init_cfg=dict(checkpoint={ckpt!r})),
             neck=dict(in_channels={CHANNELS}),
             roi_head=dict(bbox_head=dict(num_classes=1), mask_head=dict(num_classes=1)))
metainfo = dict(classes=('blob', ))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=(128, 96), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(128, 96), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))]
dataset = dict(data_root={str(root)!r}, ann_file='ann.json', data_prefix=dict(img='images/'),
               metainfo=metainfo)
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(dataset, pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(dataset, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file={str(root / 'ann.json')!r}, metric=['bbox', 'segm'])
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=1, val_interval=1)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
default_hooks = dict(logger=dict(interval=1))
""", 'epoch_1.pth', 'coco/segm_mAP'


def segmentation_config(root, ckpt):
    ade_folder(root)
    return f"""
_base_ = {osp.join(REPO_ROOT, 'configs', 'downstream', 'mmseg',
                   'upernet_swin-base-w7-simmim-100e-pre_8xb2-160k_ade20k-512x512.py')!r}
crop_size = (64, 64)
model = dict(data_preprocessor=dict(size=crop_size),
             backbone=dict(arch={TINY_SWIN}, init_cfg=dict(checkpoint={ckpt!r})),
             decode_head=dict(in_channels={CHANNELS}, channels=32),
             auxiliary_head=dict(in_channels={CHANNELS[2]}, channels=16))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomResize', scale=(128, 64), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(128, 64), keep_ratio=True),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs')]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root={str(root)!r}, pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(data_root={str(root)!r}, pipeline=test_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=2, val_interval=2)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
""", 'iter_2.pth', 'mIoU'


@pytest.mark.parametrize(
    'make_config', [classification_config, detection_config, segmentation_config],
    ids=['classification', 'detection', 'segmentation'])
def test_finetune_from_simmim_then_evaluate(make_config, workdir, simmim_checkpoint):
    name = make_config.__name__
    text, final_ckpt, metric = make_config(workdir / f'{name}_data', simmim_checkpoint)
    config = write(workdir / f'{name}.py', text)
    work = str(workdir / name)
    output = run_tool('train.py', config, '--work-dir', work)
    assert 'Loaded' in output and 'SimMIM encoder tensors' in output
    assert metric in output  # the evaluation pass after training
    checkpoint = osp.join(work, final_ckpt)
    assert osp.isfile(checkpoint)
    output = run_tool('test.py', config, checkpoint, '--work-dir', work + '_test')
    assert metric in output
