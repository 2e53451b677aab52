"""Every config builds; the pretraining configs carry the official values (design.md 1)."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.optim import build_optim_wrapper

from simmim_mm.registry import MODELS

from conftest import REPO_ROOT

CONFIGS = sorted(p for p in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'),
                                      recursive=True) if '_base_' not in p)
PRETRAIN = [p for p in CONFIGS if osp.basename(p).startswith('simmim_')]


def load(name):
    return Config.fromfile(osp.join(REPO_ROOT, 'configs', name))


def test_configs_are_found():
    names = {osp.basename(p) for p in CONFIGS}
    assert {'simmim_swin-b.py', 'simmim_swin-b_800e.py', 'simmim_swin-l_800e.py',
            'simmim_demo.py'} <= names


@pytest.mark.parametrize('path', PRETRAIN, ids=osp.basename)
def test_pretraining_config_builds_model_and_pipeline(path):
    cfg = Config.fromfile(path)
    model = MODELS.build(cfg.model)
    pipeline = Compose(cfg.train_dataloader.dataset.pipeline[1:])  # after image loading
    np.random.seed(0)
    sample = pipeline({'img': np.random.randint(0, 256, (300, 400, 3), np.uint8)})
    inputs, mask = sample['inputs'], sample['data_samples'].mask
    assert inputs.shape[0] == 3
    model.eval()
    with torch.no_grad():
        rec = model.reconstruct(inputs[None].float(), mask[None])
    assert rec.shape == (1, *inputs.shape)


def test_swin_b_100e_official_values():
    cfg = load('simmim_swin-b.py')
    model = MODELS.build(cfg.model)
    assert round(sum(p.numel() for p in model.parameters()) / 1e6, 2) == 89.87
    assert model.neck.decoder[0].weight.shape == (32 * 32 * 3, 1024, 1, 1)
    backbone = cfg.model.backbone
    assert (backbone.arch, backbone.img_size, backbone.drop_path_rate) == ('base', 192, 0.0)
    assert backbone.stage_cfgs.block_cfgs.window_size == 6

    crop, flip, masking = cfg.train_pipeline[1:4]
    assert (crop.scale, crop.crop_ratio_range) == (192, (0.67, 1.0))
    assert crop.aspect_ratio_range == pytest.approx((3 / 4, 4 / 3))
    assert flip.prob == 0.5
    assert (masking.input_size, masking.mask_patch_size, masking.model_patch_size,
            masking.mask_ratio) == (192, 32, 4, 0.6)
    assert cfg.data_preprocessor.mean == [123.675, 116.28, 103.53]
    assert cfg.data_preprocessor.std == [58.395, 57.12, 57.375]

    optim = cfg.optim_wrapper
    assert optim.optimizer.type == 'AdamW'
    assert optim.optimizer.lr == pytest.approx(2e-4 * 2048 / 512)
    assert (optim.optimizer.betas, optim.optimizer.eps) == ((0.9, 0.999), 1e-8)
    assert optim.optimizer.weight_decay == 0.05
    assert optim.clip_grad.max_norm == 5.0
    assert cfg.train_dataloader.batch_size * 16 == cfg.auto_scale_lr.base_batch_size == 2048
    assert cfg.auto_scale_lr.enable
    warmup, cosine = cfg.param_scheduler
    assert (warmup.type, warmup.begin, warmup.end) == ('LinearLR', 0, 10)
    assert warmup.start_factor * 2e-4 == pytest.approx(1e-6)
    assert (cosine.begin, cosine.end, cosine.T_max) == (10, 100, 100)
    assert cosine.eta_min_ratio * 2e-4 == pytest.approx(1e-5)
    assert warmup.convert_to_iter_based and cosine.convert_to_iter_based
    assert cfg.train_cfg.max_epochs == 100


def test_official_weight_decay_exclusions():
    cfg = load('simmim_swin-b.py')
    cfg.model.backbone.arch = dict(embed_dims=32, depths=[1, 1, 1, 1], num_heads=[1, 2, 2, 4])
    model = MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    decay_of = {}
    for group in wrapper.optimizer.param_groups:
        for param in group['params']:
            decay_of[id(param)] = group['weight_decay']
    no_decay = ('mask_token', 'relative_position_bias_table', 'absolute_pos_embed')
    for name, param in model.named_parameters():
        expected = 0.0 if param.ndim == 1 or any(k in name for k in no_decay) else 0.05
        assert decay_of[id(param)] == expected, name
    assert decay_of[id(model.backbone.mask_token)] == 0.0


def test_800e_schedule_decays_at_epoch_700():
    cfg = load('simmim_swin-b_800e.py')
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(1e-4 * 2048 / 512)
    warmup, step = cfg.param_scheduler
    assert warmup.start_factor * 1e-4 == pytest.approx(5e-7) and warmup.end == 10
    assert (step.type, step.milestones, step.gamma, step.begin) == ('MultiStepLR', [700],
                                                                   0.1, 0)
    assert cfg.train_cfg.max_epochs == 800


def test_swin_l_windows_match_the_official_model():
    cfg = load('simmim_swin-l_800e.py')
    model = MODELS.build(cfg.model)
    tables = {name.split('.')[1]: p.shape for name, p in model.backbone.named_parameters()
              if name.endswith('relative_position_bias_table')}
    # window 12 ((2*12-1)^2 rows) in stages 0-2; the 6x6 last stage uses window 6 (11^2)
    assert tables == {'0': (23 * 23, 6), '1': (23 * 23, 12), '2': (23 * 23, 24),
                      '3': (11 * 11, 48)}
    assert model.neck.in_channels == 1536
