"""Validation: SimMIM's predict mode, ReconstructionLossMetric and seeded masks, alone and
in a training run of configs/demo/simmim_swin-demo_1xb8-val-800iter_photos-96px.py."""
import glob
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmpretrain.structures import DataSample

from simmim_mm.datasets.transforms import SeededSimMIMMaskGenerator
from simmim_mm.evaluation import ReconstructionLossMetric
from simmim_mm.registry import MODELS

from conftest import REPO_ROOT, TINY_TRAIN_PIPELINE, demo_config, make_images

TINY_SWIN = dict(
    type='SimMIMSwinTransformer',
    img_size=64,
    drop_path_rate=0.0,
    arch=dict(embed_dims=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2]),
    stage_cfgs=dict(block_cfgs=dict(window_size=2)))
MASK = dict(input_size=64, mask_patch_size=16, model_patch_size=4, mask_ratio=0.6)


def test_seeded_masks_depend_only_on_seed_and_sample_index():
    generator = SeededSimMIMMaskGenerator(seed=3, **MASK)
    image = np.zeros((64, 64, 3), np.uint8)

    def mask(idx, global_seed):
        np.random.seed(global_seed)
        return generator(dict(img=image, sample_idx=idx))['mask']

    first = mask(0, global_seed=0)
    assert first.shape == (16, 16) and first.sum() == 10 * 16  # ceil(16 * 0.6) blocks of 4x4
    np.testing.assert_array_equal(mask(0, global_seed=123), first)
    assert not np.array_equal(mask(1, global_seed=0), first)
    other_seed = SeededSimMIMMaskGenerator(seed=4, **MASK)
    assert not np.array_equal(other_seed(dict(img=image, sample_idx=0))['mask'], first)
    # the global random state is left as it was
    np.random.seed(7)
    expected = np.random.rand()
    np.random.seed(7)
    generator(dict(img=image, sample_idx=5))
    assert np.random.rand() == expected
    with pytest.raises(KeyError, match='sample_idx'):
        generator(dict(img=image))


def test_predict_scores_each_image_and_the_metric_averages_them():
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='SimMIM',
            backbone=TINY_SWIN,
            neck=dict(type='SimMIMDecoder', encoder_stride=32),
            head=dict(type='SimMIMReconstructionHead')))
    model.eval()
    inputs = torch.randn(3, 3, 64, 64)
    generator = SeededSimMIMMaskGenerator(**MASK)
    masks = [
        torch.from_numpy(generator(dict(img=np.zeros((64, 64, 3)), sample_idx=i))['mask'])
        for i in range(3)
    ]
    samples = [DataSample().set_mask(m) for m in masks]
    with torch.no_grad():
        scored = model(inputs, samples, mode='predict')
        batch_loss = model.loss(inputs, samples)['loss']
        single = model.loss(inputs[1:2], samples[1:2])['loss']
    losses = [s.reconstruction_loss for s in scored]
    assert losses[1].item() == pytest.approx(single.item(), rel=1e-5)

    metric = ReconstructionLossMetric()
    metric.process({}, [s.to_dict() for s in scored[:2]])
    metric.process({}, [s.to_dict() for s in scored[2:]])
    result = metric.evaluate(size=3)
    assert list(result) == ['reconstruction/error']
    # every image has the same number of masked pixels: the mean equals the batch loss
    assert result['reconstruction/error'] == pytest.approx(batch_loss.item(), rel=1e-5)

    with pytest.raises(KeyError, match="mode='predict'"):
        ReconstructionLossMetric().process({}, [DataSample().to_dict()])


def write_config(tmp_path, train_folder, val_folder):
    path = tmp_path / 'demo_val_tiny.py'
    path.write_text(
        demo_config(
            train_folder,
            train_cfg='dict(max_iters=4, val_interval=2)',
            base=osp.join(REPO_ROOT, 'configs', 'demo',
                          'simmim_swin-demo_1xb8-val-800iter_photos-96px.py'),
            pipeline='train_pipeline',
            before=f"""\
train_pipeline = {TINY_TRAIN_PIPELINE}
val_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=64, edge='short'),
    dict(type='CenterCrop', crop_size=64),
    dict(type='SeededSimMIMMaskGenerator', input_size=64, mask_patch_size=16,
         model_patch_size=4),
    dict(type='PackInputs'),
]""",
            after=f"""\
val_dataloader = dict(batch_size=2, dataset=dict(_delete_=True, type='CustomDataset',
    data_root={val_folder!r}, with_label=False, pipeline=val_pipeline))"""))
    return str(path)


def train_and_read_val_losses(config, work_dir, name):
    cfg = Config.fromfile(config)
    cfg.work_dir, cfg.experiment_name = work_dir, name
    runner = Runner.from_cfg(cfg)
    runner.train()
    records = [
        json.loads(line) for path in glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
        for line in open(path)
    ]
    return runner, {
        r['step']: r['reconstruction/error']
        for r in records if 'reconstruction/error' in r
    }


def test_validation_loss_is_deterministic_and_picks_the_best_checkpoint(tmp_path):
    train_folder, val_folder = tmp_path / 'train', tmp_path / 'val'
    make_images(train_folder, count=4, seed=0)
    make_images(val_folder, count=3, seed=1)
    config = write_config(tmp_path, str(train_folder), str(val_folder))

    runner, first = train_and_read_val_losses(config, str(tmp_path / 'a'), 'val_a')
    _, second = train_and_read_val_losses(config, str(tmp_path / 'b'), 'val_b')
    assert sorted(first) == [2, 4]
    assert first == second  # same seed: the very same numbers
    assert all(np.isfinite(v) and v > 0 for v in first.values())

    # the same model scored again (other global random state): the same masks and loss
    np.random.seed(99)
    again = runner.val_loop.run()['reconstruction/error']
    assert again == pytest.approx(first[4], rel=1e-6)

    best_iter = min(first, key=first.get)
    assert glob.glob(osp.join(tmp_path, 'a', f'best_reconstruction_error_iter_{best_iter}.pth'))
