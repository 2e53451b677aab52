"""tools/train.py on a folder of 1-channel 16-bit PNGs and one of 5-band 16-bit TIFFs: the
images' real values and channels through crop, flip, mask, PackInputs and the data
preprocessor into a model with that many input channels (docs/en/user_guides/
data_preparation.md, "Your own folder of images")."""
import json
import os
import os.path as osp
import runpy
import shlex
import subprocess
import sys
from unittest import mock

import cv2
import numpy as np
import pytest
import tifffile
import torch

from conftest import REPO_ROOT, TINY_DEMO_MODEL, demo_config

PIPELINE = """[
    dict(type='LoadImageFromFileOrSkip', color_type='unchanged'),
    dict(type='{crop}', scale=64, crop_ratio_range=(0.67, 1.0), backend='{backend}'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='SimMIMMaskGenerator', input_size=64, mask_patch_size=16, model_patch_size=4),
    dict(type='PackInputs'),
]"""


def smooth_bands(rng, size, bands, low, high):
    """Gradients plus a disc per band, uint16 in [low, high): images a model can learn."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.empty((h, w, bands))
    for b in range(bands):
        a, c = rng.uniform(-1, 1, 2)
        cy, cx, r = rng.uniform(0.3, 0.7, 2).tolist() + [rng.uniform(0.1, 0.25)]
        img[..., b] = 0.5 + 0.3 * (a * xx + c * yy) + 0.2 * ((yy - cy)**2 + (xx - cx)**2 < r**2)
    return (low + (high - low) * np.clip(img, 0, 1)).astype(np.uint16)


def write_gray16_pngs(folder, rng):
    images = [smooth_bands(rng, (80, 96), 1, 20000, 60000)[..., 0] for _ in range(4)]
    for k, img in enumerate(images):
        assert cv2.imwrite(osp.join(folder, f'{k}.png'), img)
    return images, 'RandomResizedCrop', 'cv2'


def write_5_band_tiffs(folder, rng):
    images = [smooth_bands(rng, (80, 96), 5, 1000, 9000) for _ in range(4)]
    for k, img in enumerate(images):
        tifffile.imwrite(
            osp.join(folder, f'{k}.tif'), img, photometric='minisblack', planarconfig='contig')
    return images, 'TorchRandomResizedCrop', 'torch'


@pytest.mark.parametrize(
    'channels,write', [(1, write_gray16_pngs), (5, write_5_band_tiffs)],
    ids=['gray-16bit-png', '5band-16bit-tiff'])
def test_pretrain_on_own_channels(tmp_path, channels, write):
    folder = tmp_path / 'images'
    folder.mkdir()
    images, crop, backend = write(str(folder), np.random.default_rng(channels))
    pixels = np.concatenate([img.reshape(-1, channels) for img in images]).astype(np.float64)
    mean, std = pixels.mean(axis=0).tolist(), pixels.std(axis=0).tolist()
    # mmpretrain's SelfSupDataPreprocessor (the base config's) takes 1 or 3 values
    preprocessor = "type='MultiChannelDataPreprocessor', " if channels > 3 else ''
    config = tmp_path / 'own.py'
    config.write_text(
        demo_config(
            str(folder),
            4,
            pipeline=PIPELINE.format(crop=crop, backend=backend),
            tiny_model=False,
            before=TINY_DEMO_MODEL.replace('backbone=dict(',
                                           f'backbone=dict(in_channels={channels}, ') +
            f'\ndata_preprocessor = dict({preprocessor}mean={mean}, std={std}, to_rgb=False)',
            checkpoint_interval=4))
    work_dir = tmp_path / 'work'
    result = subprocess.run(
        [sys.executable, 'tools/train.py',
         str(config), '--work-dir',
         str(work_dir)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert 'Skipping unreadable image' not in result.stdout + result.stderr

    (scalars, ) = work_dir.glob('*/vis_data/scalars.json')
    losses = [json.loads(line)['loss'] for line in open(scalars) if '"loss"' in line]
    assert len(losses) == 4 and all(np.isfinite(losses))
    # normalized by the folder's own mean / std, masked pixels start near unit L1 scale, not
    # at the 10^4 of raw 16-bit values
    assert 0.05 < losses[0] < 5, losses
    state = torch.load(work_dir / 'iter_4.pth', map_location='cpu', weights_only=True)['state_dict']
    assert state['backbone.patch_embed.projection.weight'].shape[1] == channels
    # the decoder predicts every channel of every pixel of a 32 px patch (PixelShuffle)
    assert state['neck.decoder.0.weight'].shape[0] == channels * 32**2


def documented_options(marker):
    """The --cfg-options of data_preparation.md's train command that sets ``marker``, parsed
    by tools/train.py's own parser."""
    doc = open(osp.join(REPO_ROOT, 'docs', 'en', 'user_guides', 'data_preparation.md')).read()
    (line, ) = [
        line for line in doc.splitlines()
        if line.startswith('python tools/train.py') and marker in line
    ]
    tool = runpy.run_path(osp.join(REPO_ROOT, 'tools', 'train.py'))
    with mock.patch.object(sys, 'argv', shlex.split(line)[1:]), mock.patch.dict(os.environ):
        args = tool['parse_args']()
    return args.config, args.cfg_options


@pytest.mark.parametrize(
    'channels,write', [(1, write_gray16_pngs), (5, write_5_band_tiffs)],
    ids=['gray-16bit-png', '5band-16bit-tiff'])
def test_the_documented_options_train_the_real_config(tmp_path, channels, write):
    """data_preparation.md's commands, on the real pretraining config (Swin-B, 192 px): its
    dataset finds the folder's images (.tiff too), the pipeline keeps their values, the model
    takes their channels and one training loss is finite."""
    from mmengine.config import Config
    from mmengine.dataset import default_collate

    from simmim_mm.registry import DATASETS, MODELS
    config, options = documented_options(f'in_channels={channels}')
    images, _, _ = write(str(tmp_path), np.random.default_rng(channels))
    if channels == 5:  # the listing of .tiff files too
        os.rename(tmp_path / '0.tif', tmp_path / '0.tiff')
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    cfg.merge_from_dict(dict(options, **{'train_dataloader.dataset.data_root': str(tmp_path)}))
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(dataset) == len(images)
    samples = [dataset[k] for k in range(2)]
    assert samples[0]['inputs'].shape == (channels, 192, 192)
    assert samples[0]['inputs'].dtype == torch.uint16  # 16-bit values, not squeezed to 8
    assert samples[0]['inputs'].int().max() > 255
    model = MODELS.build(dict(cfg.model, data_preprocessor=cfg.data_preprocessor))
    assert model.backbone.patch_embed.projection.in_channels == channels
    loss = model(**model.data_preprocessor(default_collate(samples), True), mode='loss')['loss']
    assert torch.isfinite(loss)
