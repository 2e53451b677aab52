"""Every shipped config runs a user's first training iteration at its real size: its dataset
(a tiny folder in the config's layout), pipeline, data preprocessor, its real model (weights
initialised as the Runner does; fine-tuning and downstream configs from a SimMIM pretraining
checkpoint), its optimizer wrapper, then one forward, backward and step at batch 1 (2 for
segmentation, its per-GPU batch) in fp32 on the CPU, for every config, variants included.

Detection and segmentation shrink their image scales (the inputs would take minutes on a CPU)
to sizes that still take the real sizes' window paths: every Swin stage map larger than the
window, and padded to a multiple of it. Classification and pretraining keep their real size,
where the official Swin never pads: each stage's map is a multiple of its window (windows
larger than a map shrink to it), which the test checks for every block.
"""
import gc
import glob
import json
import os
import os.path as osp
import re

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import DefaultScope, init_default_scope
from mmengine.runner import Runner
from mmpretrain.models.utils.attention import ShiftWindowMSA
from PIL import Image

from conftest import REPO_ROOT, make_images, pretraining_config_of
from simmim_mm.engine import AtomicCheckpointRunner
from simmim_mm.models.utils import resize_relative_position_bias_table
from simmim_mm.registry import MODELS

CONFIGS = sorted(p for p in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'),
                                      recursive=True) if '_base_' not in p)


def relpath(path):
    return osp.relpath(path, osp.join(REPO_ROOT, 'configs'))


def family(cfg):
    scope = cfg.get('default_scope', 'simmim_mm')
    if scope in ('mmdet', 'mmseg'):
        return scope
    return dict(SimMIM='pretrain', MIMDistiller='distill').get(cfg.model.type,
                                                                'classification')


def pretraining_config(path):
    name = osp.basename(path)
    if relpath(path).startswith('distill' + os.sep):
        # a student's transfer (`..._vit-small-p16_tinymim-300e-pre_...`): the distillation
        # config of that method and student (`tinymim_...-to-vit-small-p16_...`)
        student, method = re.search(
            r'((?:vit|swin)-[a-z]+(?:-p\d+)?)(?:-w\d+)?_([a-z]+)-\d+e-pre', name).groups()
        found = glob.glob(osp.join(REPO_ROOT, 'configs', 'distill', f'{method}_*-to-{student}*'))
        assert len(found) == 1, (name, found)
        return relpath(found[0])
    return pretraining_config_of(name)


@pytest.fixture(scope='module')
def pretrained(tmp_path_factory):
    """SimMIM pretraining checkpoints (backbone only) from our pretraining configs, built once
    per architecture; relative position tables random so that resizing them shows."""
    cache = {}

    def get(name, part='backbone'):
        if (name, part) not in cache:
            model = MODELS.build(Config.fromfile(osp.join(REPO_ROOT, 'configs', name)).model)
            if part == 'teacher':  # a distillation's teacher, saved as a SimMIM backbone
                model = torch.nn.ModuleDict(dict(backbone=model.teacher))
            gen = torch.Generator().manual_seed(0)
            state = {}
            for key, value in model.state_dict().items():
                if not key.startswith('backbone.'):
                    continue
                if key.endswith('relative_position_bias_table'):
                    value = torch.randn(value.shape, generator=gen) * 0.02
                state[key] = value
            path = str(tmp_path_factory.mktemp('pretrained') / 'simmim.pth')
            torch.save({'state_dict': state}, path)
            cache[name, part] = path, {k[len('backbone.'):]: v for k, v in state.items()
                                       if k.endswith('relative_position_bias_table')}
            del model
            gc.collect()
        return cache[name, part]

    return get


def imagenet_folder(root):
    """ImageNet's train/ with meta/train.txt (1000 class folders would be needed without)."""
    paths = make_images(osp.join(root, 'train'), count=2, size=(256, 320))
    os.makedirs(osp.join(root, 'meta'))
    with open(osp.join(root, 'meta', 'train.txt'), 'w') as f:
        f.writelines(f'{osp.relpath(p, osp.join(root, "train"))} {i * 7}\n'
                     for i, p in enumerate(paths))
    return root


def coco_folder(root):
    """One 300 x 400 image with one annotated object, in COCO's train2017 layout."""
    os.makedirs(osp.join(root, 'train2017'))
    os.makedirs(osp.join(root, 'annotations'))
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)).save(
        osp.join(root, 'train2017', '000000000001.jpg'))
    polygon = [60.0, 50.0, 260.0, 50.0, 260.0, 210.0, 60.0, 210.0]
    ann = dict(
        images=[dict(id=1, file_name='000000000001.jpg', height=300, width=400)],
        annotations=[dict(id=1, image_id=1, category_id=1, bbox=[60.0, 50.0, 200.0, 160.0],
                          area=32000.0, iscrowd=0, segmentation=[polygon])],
        categories=[dict(id=1, name='person', supercategory='person')])
    with open(osp.join(root, 'annotations', 'instances_train2017.json'), 'w') as f:
        json.dump(ann, f)
    return root


def ade_folder(root):
    """Two 300 x 400 images and label maps (0 = ignored, classes 1-150), in ADE20K's layout."""
    for sub in ('images/training', 'annotations/training'):
        os.makedirs(osp.join(root, sub))
    rng = np.random.default_rng(0)
    for i in (1, 2):
        Image.fromarray(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)).save(
            osp.join(root, f'images/training/ADE_train_{i:08d}.jpg'))
        labels = np.repeat(np.repeat(rng.integers(0, 151, (10, 10), dtype=np.uint8), 30, 0),
                           40, 1)
        Image.fromarray(labels).save(
            osp.join(root, f'annotations/training/ADE_train_{i:08d}.png'))
    return root


def shrink(node, factor, floor):
    """Scale every image size of a pipeline (scale / scales / crop_size) by ``factor``,
    no side below ``floor``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ('scale', 'scales', 'crop_size'):
                node[key] = shrink_sizes(value, factor, floor)
            else:
                shrink(value, factor, floor)
    elif isinstance(node, (list, tuple)):
        for item in node:
            shrink(item, factor, floor)


def shrink_sizes(value, factor, floor):
    if isinstance(value, (list, tuple)):
        return type(value)(shrink_sizes(v, factor, floor) for v in value)
    return max(floor, int(round(value * factor)))


def tiny_data(cfg, kind, root):
    loader = cfg.train_dataloader
    # batch 1, but segmentation keeps its 2 per GPU: UperNet's 1x1 pooling branch has a
    # BatchNorm, which needs more than one value per channel
    loader.update(batch_size=2 if kind == 'mmseg' else 1, num_workers=0,
                  persistent_workers=False)
    loader.pop('batch_sampler', None)  # mmdet's AspectRatioBatchSampler wants batch_size > 1
    dataset = loader.dataset
    if dataset.type == 'BundledPhotos':  # the demo: photos that ship with scikit-image
        return
    if kind in ('pretrain', 'distill'):
        make_images(osp.join(root, 'train'), count=2, size=(256, 320))
        dataset.data_root = root
    elif kind == 'classification':
        dataset.data_root = imagenet_folder(root)
    elif kind == 'mmdet':
        if dataset.type == 'RepeatDataset':
            dataset = dataset.dataset
        dataset.data_root = coco_folder(root)
        backbone = cfg.model.backbone
        if backbone.type.endswith('ViT'):
            # ViT, at one fixed size (its position bias): 1024 -> 512, padded to it
            shrink(dataset.pipeline, 0.5, 1)
            for augment in cfg.model.data_preprocessor.batch_augments:
                augment.size = tuple(s // 2 for s in augment.size)
            backbone.img_size //= 2
        else:
            # 800 x 1333 (3x: 480-800 short side) -> 320 x 533 (256-320): maps of 8 to 25
            # tokens at the last stage, as at the real sizes (15 to 25): padded, never
            # smaller than 7
            shrink(dataset.pipeline, 0.4, 256)
    elif kind == 'mmseg':
        dataset.data_root = ade_folder(root)
        # 512 crops padded to 512 -> 256 crops padded to 256: stage maps 64, 32, 16, 8
        shrink(dataset.pipeline, 0.5, 1)
        preprocessor = cfg.model.data_preprocessor
        preprocessor.size = tuple(s // 2 for s in preprocessor.size)
        if cfg.model.backbone.type.endswith('ViT'):  # its relative position tables follow
            cfg.model.backbone.img_size //= 2


class WindowRecorder:
    """(H, W, window, pad_small_map) of every Swin window attention call."""

    def __init__(self, model):
        self.calls = []
        self.handles = [m.register_forward_pre_hook(self.record) for m in model.modules()
                        if isinstance(m, ShiftWindowMSA)]

    def record(self, module, args):
        height, width = args[1]
        self.calls.append((height, width, module.window_size, module.pad_small_map))

    def remove(self):
        for handle in self.handles:
            handle.remove()


def check_windows(calls, kind):
    if not calls:
        return  # ViT
    if kind in ('mmdet', 'mmseg'):
        # the real sizes' path: maps larger than the window, padded to a multiple of it
        assert all(min(h, w) > win for h, w, win, _ in calls), sorted(set(calls))
        assert any(h % win or w % win for h, w, win, _ in calls), sorted(set(calls))
    else:
        # the official Swin never pads: a window divides its map (or has shrunk to it)
        assert all(h % win == 0 and w % win == 0 and min(h, w) >= win
                   for h, w, win, _ in calls), sorted(set(calls))
        assert not any(pad for *_, pad in calls)


def check_tables_from_pretraining(backbone, encoder):
    """Every relative position table is the pretrained one of the same block, resized to its
    own window when that differs (the official fine-tuning: per layer, to the layer's window).
    ``encoder``: the pretrained tables."""
    tables = {k: v for k, v in backbone.state_dict().items()
              if k.endswith('relative_position_bias_table')}
    for key, table in tables.items():
        source = encoder.get(key)
        if source is None:  # ViT: the shared table, copied into every block
            source = encoder['rel_pos_bias.relative_position_bias_table']
        extra = 3 if source.shape[0] == int(source.shape[0]**0.5)**2 + 3 else 0
        expected = resize_relative_position_bias_table(source, table.shape[0], extra)
        torch.testing.assert_close(table, expected, msg=key)
    return tables


@pytest.mark.parametrize('path', CONFIGS, ids=relpath)
def test_first_iteration_at_real_size(path, tmp_path, pretrained):
    cfg = Config.fromfile(path)
    kind = family(cfg)
    tiny_data(cfg, kind, str(tmp_path / 'data'))
    if cfg.optim_wrapper.get('type') == 'AnyDeviceAmpOptimWrapper':
        cfg.optim_wrapper.dtype = 'float32'  # conftest.FP32: the same numbers on every CPU
    encoder = None
    if kind == 'distill':
        cfg.model.teacher_checkpoint, _ = pretrained(relpath(path), part='teacher')
    elif kind != 'pretrain':
        checkpoint, encoder = pretrained(pretraining_config(path))
        cfg.model.backbone.init_cfg.checkpoint = checkpoint

    scope = cfg.get('default_scope', 'simmim_mm')
    DefaultScope._instance_dict.pop('real-size-test', None)
    with DefaultScope.overwrite_default_scope(scope):
        init_default_scope(scope)
        torch.manual_seed(0)
        np.random.seed(0)
        # the config's own runner: AtomicCheckpointRunner drops the `_scope_` that a
        # `mmpretrain::` / `simmim_mm::` base puts on collate_fn, MMEngine's Runner does not
        runner = (AtomicCheckpointRunner if cfg.get('runner_type') == 'AtomicCheckpointRunner'
                  else Runner)
        loader = runner.build_dataloader(cfg.train_dataloader, seed=0)
        batch = next(iter(loader))
        model_cfg = cfg.model
        if cfg.get('data_preprocessor') is not None:
            model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)  # as the Runner
        model = ROOT_MODELS.build(model_cfg)
        model.init_weights()
        wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    if encoder is not None:
        tables = check_tables_from_pretraining(model.backbone, encoder)
        if osp.basename(path).startswith('swin-large'):
            # official: pretrained windows 12, 12, 12, 6 (6x6 last map) -> 14, 14, 14, 7
            rows = [v.shape[0] for k, v in tables.items() if '.blocks.0.' in k]
            assert rows == [27**2, 27**2, 27**2, 13**2]

    if kind == 'pretrain':
        size = cfg.train_dataloader.dataset.pipeline[-2].input_size
        assert batch['inputs'][0].shape[-2:] == (size, size)
    # the first backbone parameter (the patch embedding) and, in pretraining, the mask token
    # (a distillation's student sees full images: its mask token is unused)
    watched = [next(p for n, p in model.backbone.named_parameters()
                    if p.requires_grad and n != 'mask_token')]
    if kind == 'pretrain':
        watched.append(model.backbone.mask_token)
    before = [p.detach().clone() for p in watched]
    recorder = WindowRecorder(model)
    model.train()
    log = model.train_step(batch, wrapper)
    recorder.remove()

    assert log and all(torch.isfinite(torch.as_tensor(v)).all() for v in log.values()), log
    assert not any(torch.equal(p.detach(), b) for p, b in zip(watched, before)), \
        'the backbone did not train'
    check_windows(recorder.calls, kind)
    del model, wrapper, loader, batch, recorder
    gc.collect()
