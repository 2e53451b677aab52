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
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import DefaultScope, init_default_scope
from mmengine.runner import Runner
from mmpretrain.models.utils.attention import ShiftWindowMSA

from simmim_mm.engine import AtomicCheckpointRunner
from simmim_mm.models.utils import resize_relative_position_bias_table

from conftest import REPO_ROOT, make_images, pretraining_config_of, save_backbone_checkpoint
from dataset_layouts import (
    ade_folder,
    coco_folder,
    elpv_folder,
    imagenet_folder,
    is_prepared_split,
    tiny_data_options,
)

CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p)


def relpath(path):
    return osp.relpath(path, osp.join(REPO_ROOT, 'configs'))


def family(cfg):
    scope = cfg.get('default_scope', 'simmim_mm')
    if scope in ('mmdet', 'mmseg'):
        return scope
    return dict(SimMIM='pretrain', MIMDistiller='distill').get(cfg.model.type, 'classification')


@pytest.fixture(scope='module')
def pretrained(tmp_path_factory):
    """SimMIM pretraining checkpoints (backbone only) from our pretraining configs, built once
    per architecture: (path, the relative position tables it holds)."""
    cache = {}

    def get(name, part='backbone'):
        if (name, part) not in cache:
            path = str(tmp_path_factory.mktemp('pretrained') / 'simmim.pth')
            state = save_backbone_checkpoint(name, path, part)
            cache[name, part] = path, {
                k: v
                for k, v in state.items() if k.endswith('relative_position_bias_table')
            }
        return cache[name, part]

    return get


def tiny_data(cfg, kind, root):
    loader = cfg.train_dataloader
    # batch 1, but segmentation keeps its 2 per GPU: UperNet's 1x1 pooling branch has a
    # BatchNorm, which needs more than one value per channel
    loader.update(batch_size=2 if kind == 'mmseg' else 1, num_workers=0, persistent_workers=False)
    loader.pop('batch_sampler', None)  # mmdet's AspectRatioBatchSampler wants batch_size > 1
    dataset = loader.dataset
    if dataset.type == 'BundledPhotos':  # the demo: photos that ship with scikit-image
        return
    if is_prepared_split(dataset):  # configs/elpv: images/ and meta/{train,test}.txt
        dataset.data_root = elpv_folder(root)
    elif kind in ('pretrain', 'distill'):
        make_images(osp.join(root, 'train'), count=2, size=(256, 320))
        dataset.data_root = root
    elif kind == 'classification':
        dataset.data_root = imagenet_folder(root)
    elif kind == 'mmdet':
        cfg.merge_from_dict(tiny_data_options(cfg, kind, coco_folder(root)))
    elif kind == 'mmseg':
        cfg.merge_from_dict(tiny_data_options(cfg, kind, ade_folder(root)))


class WindowRecorder:
    """(H, W, window, pad_small_map) of every Swin window attention call."""

    def __init__(self, model):
        self.calls = []
        self.handles = [
            m.register_forward_pre_hook(self.record) for m in model.modules()
            if isinstance(m, ShiftWindowMSA)
        ]

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
    tables = {
        k: v
        for k, v in backbone.state_dict().items() if k.endswith('relative_position_bias_table')
    }
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
    elif kind != 'pretrain' and cfg.model.backbone.get('init_cfg'):  # not from scratch
        checkpoint, encoder = pretrained(pretraining_config_of(path))
        cfg.model.backbone.init_cfg.checkpoint = checkpoint

    scope = cfg.get('default_scope', 'simmim_mm')
    DefaultScope._instance_dict.pop('real-size-test', None)
    with DefaultScope.overwrite_default_scope(scope):
        init_default_scope(scope)
        torch.manual_seed(0)
        np.random.seed(0)
        # the config's own runner: AtomicCheckpointRunner drops the `_scope_` that a
        # `mmpretrain::` / `simmim_mm::` base puts on collate_fn, MMEngine's Runner does not
        atomic = cfg.get('runner_type') == 'simmim_mm.AtomicCheckpointRunner'
        runner = AtomicCheckpointRunner if atomic else Runner
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
        if 'Swin' in cfg.model.backbone.type and cfg.model.backbone.arch == 'large':
            # official: pretrained windows 12, 12, 12, 6 (6x6 last map) -> 14, 14, 14, 7
            rows = [v.shape[0] for k, v in tables.items() if '.blocks.0.' in k]
            assert rows == [27**2, 27**2, 27**2, 13**2]

    if kind == 'pretrain':
        size = cfg.train_dataloader.dataset.pipeline[-2].input_size
        assert batch['inputs'][0].shape[-2:] == (size, size)
    # the first backbone parameter (the patch embedding) and, in pretraining, the mask token
    # (a distillation's student sees full images: its mask token is unused)
    watched = [
        next(p for n, p in model.backbone.named_parameters()
             if p.requires_grad and n != 'mask_token')
    ]
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
