"""Continued pretraining (docs/en/user_guides/pretrain.md), end to end: a tiny SimMIM run at
64 px with windows of 2 writes a checkpoint; tools/train.py continues it at 96 px with
windows 3, 3, 2, 3 through the documented ``--cfg-options model.init_cfg...``."""
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate

from simmim_mm.registry import DATASETS, MODELS

from conftest import FP32, REPO_ROOT, TINY_TRAIN_PIPELINE, demo_config, make_images

PRETRAIN_ITERS = 20  # the tiny model's loss falls from ~0.6 to ~0.36 in these
WINDOWS = (3, 3, 2, 3)  # 96 px: maps of 24, 12, 6, 3 tokens; stage 2 keeps its window of 2
CONTINUED_MODEL = (
    'model = dict(backbone=dict(img_size=96, arch=dict(_delete_=True, embed_dims=16, '
    'depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2]), stage_cfgs=[dict(block_cfgs=dict('
    f'window_size=w)) for w in {WINDOWS!r}]))')
PIPELINE_96 = TINY_TRAIN_PIPELINE.replace('scale=64',
                                          'scale=96').replace('input_size=64', 'input_size=96')


def run_train(*args):
    result = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'), *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """(checkpoint of the 64 px run, config of the 96 px continuation)."""
    root = tmp_path_factory.mktemp('continued')
    make_images(root / 'images', count=6)
    pretrain = root / 'pretrain.py'
    pretrain.write_text(
        demo_config(
            str(root / 'images'),
            PRETRAIN_ITERS,
            pipeline=TINY_TRAIN_PIPELINE,
            checkpoint_interval=PRETRAIN_ITERS,
            after=FP32))
    run_train(str(pretrain), '--work-dir', str(root / 'pretrain'))
    continued = root / 'continue.py'
    continued.write_text(
        demo_config(
            str(root / 'images'),
            2,
            tiny_model=False,
            before=CONTINUED_MODEL,
            pipeline=PIPELINE_96,
            checkpoint_interval=2,
            after=FP32))
    return str(root / 'pretrain' / f'iter_{PRETRAIN_ITERS}.pth'), str(continued)


def build(config, checkpoint=None, seed=0):
    cfg = Config.fromfile(config)
    cfg.model.setdefault('data_preprocessor', cfg.data_preprocessor)  # as the Runner does
    if checkpoint:
        cfg.model.init_cfg = dict(type='Pretrained', checkpoint=checkpoint)
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model.eval()


def test_the_documented_command_continues_training(runs, tmp_path):
    checkpoint, config = runs
    output = run_train(config, '--work-dir', str(tmp_path), '--cfg-options',
                       'model.init_cfg.type=Pretrained', f'model.init_cfg.checkpoint={checkpoint}')
    assert f'SimMIM encoder tensors from {checkpoint} into SimMIMSwinTransformer' in output
    assert f'Kept the decoder of {checkpoint}' in output
    assert 'do not match exactly' not in output
    assert osp.isfile(tmp_path / 'iter_2.pth')


def test_weights_start_from_the_checkpoint_at_the_new_window(runs):
    checkpoint, config = runs
    saved = torch.load(checkpoint, map_location='cpu', weights_only=True)['state_dict']
    loaded = build(config, checkpoint).state_dict()
    tables = 0
    for key, value in saved.items():
        if key.endswith('relative_position_index'):
            continue  # rebuilt for the new window
        if not key.endswith('relative_position_bias_table'):
            assert torch.equal(loaded[key], value), key  # mask token and decoder included
            continue
        window = WINDOWS[int(key.split('.')[2])]
        heads = value.shape[1]
        assert value.shape == (9, heads) and loaded[key].shape == ((2 * window - 1)**2, heads)
        if window == 2:
            assert torch.equal(loaded[key], value), key
        else:  # a spline through the table: offsets -1, 0, 1 are its knots, kept exactly
            inner = loaded[key].view(5, 5, heads)[1:4, 1:4]
            torch.testing.assert_close(inner, value.view(3, 3, heads), rtol=0, atol=1e-6)
        tables += 1
    assert tables == 4 and 'backbone.mask_token' in saved and 'neck.decoder.0.weight' in saved


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_first_loss_is_lower_than_from_scratch_on_the_same_batch(runs, seed):
    checkpoint, config = runs
    cfg = Config.fromfile(config)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    torch.manual_seed(seed)
    batch = default_collate([dataset[i] for i in range(4)])
    losses = {}
    for name, model in (('continued', build(config, checkpoint,
                                            seed)), ('scratch', build(config, None, seed))):
        data = model.data_preprocessor(batch, training=True)
        with torch.no_grad():
            losses[name] = model(**data, mode='loss')['loss'].item()
    assert losses['continued'] < losses['scratch'], losses
