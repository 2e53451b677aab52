"""InpaintingBaselineHook: after training, the model's masked L1 next to the classical infills
on the same images and masks, in the log and as JSON."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.runner import Runner

from simmim_mm.engine.hooks import InpaintingBaselineHook

from conftest import FP32, TINY_TRAIN_PIPELINE, demo_config, make_images


def tiny_run(tmp_path, hook: dict) -> Runner:
    make_images(tmp_path / 'images', count=4)
    config = tmp_path / 'baseline_tiny.py'
    config.write_text(
        demo_config(
            str(tmp_path / 'images'),
            2,
            before=f'{FP32}\ntrain_pipeline = {TINY_TRAIN_PIPELINE}',
            pipeline='train_pipeline',
            custom_hooks=f'[{hook!r}]'))
    cfg = Config.fromfile(str(config))
    cfg.work_dir, cfg.experiment_name = str(tmp_path / 'work'), 'inpainting_baseline'
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def test_table_and_json_score_the_same_masks(tmp_path, capsys):
    runner = tiny_run(
        tmp_path,
        dict(type='InpaintingBaselineHook', num_images=3, draws=2, seed=5, radius=3, batch_size=4))
    hook = next(h for h in runner.hooks if isinstance(h, InpaintingBaselineHook))

    with open(osp.join(runner.work_dir, 'inpainting_baseline.json')) as f:
        results = json.load(f)
    assert results == hook.results
    assert (results['num_images'], results['draws']) == (3, 2)
    assert results['seed'] == 5 and results['radius'] == 3
    scores = results['masked_l1']
    assert set(scores) == {'model', 'inpaint_telea', 'mean_colour'}
    assert all(np.isfinite(v) and v > 0 for v in scores.values())
    logged = capsys.readouterr().out
    for label in ('SimMIM (this model)', 'OpenCV inpaint (Telea, radius 3)',
                  'mean colour of the visible pixels'):
        assert label in logged
    assert f'{scores["mean_colour"]:.3f}' in logged
    assert runner.model.training  # back in train mode

    # Recomputed independently on the same samples (same seed, same draws): the mean-colour
    # infill by hand in numpy, and the model's score as its own eval-mode SimMIM loss.
    model = runner.model
    samples = hook._samples(runner)
    assert len(samples) == 6
    # the second draw of an image is a fresh view and mask
    assert not torch.equal(samples[0]['data_samples'].mask, samples[3]['data_samples'].mask)
    batch = default_collate(samples)
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(batch, training=False)
        losses = [
            float(s.reconstruction_loss)
            for s in model(data['inputs'], data['data_samples'], mode='predict')
        ]
    model.train()
    inputs = data['inputs'].numpy()
    errors = []
    for image, sample in zip(inputs, data['data_samples']):
        masked = np.kron(sample.mask.numpy(), np.ones((4, 4), dtype=int)).astype(bool)
        for channel in image:
            errors.append(np.abs(channel[masked] - channel[~masked].mean()))
    assert scores['mean_colour'] == pytest.approx(np.concatenate(errors).mean(), rel=1e-4)
    # every image has the same number of masked pixels, so the per-image losses average
    assert scores['model'] == pytest.approx(np.mean(losses), rel=1e-4)


def test_a_dataset_config_fixes_images_and_masks(tmp_path):
    """With a deterministic pipeline and seeded masks, the seed of the hook does not matter."""
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='ResizeEdge', scale=64, edge='short'),
        dict(type='CenterCrop', crop_size=64),
        dict(
            type='SeededSimMIMMaskGenerator',
            seed=0,
            input_size=64,
            mask_patch_size=16,
            model_patch_size=4),
        dict(type='PackInputs'),
    ]
    dataset = dict(
        type='CustomDataset',
        data_root=str(tmp_path / 'images'),
        with_label=False,
        pipeline=pipeline)
    runner = tiny_run(tmp_path, dict(type='InpaintingBaselineHook', dataset=dataset, seed=1))
    hook = next(h for h in runner.hooks if isinstance(h, InpaintingBaselineHook))
    first = hook.results
    assert first['num_images'] == 4
    hook.seed = 2
    hook.after_train(runner)
    assert hook.results['masked_l1'] == first['masked_l1']


def test_draws_must_be_positive():
    with pytest.raises(ValueError, match='draws'):
        InpaintingBaselineHook(draws=0)
