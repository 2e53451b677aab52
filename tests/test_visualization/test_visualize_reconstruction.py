"""tools/visualize_reconstruction.py on tiny Swin, SwinV2 and ViT checkpoints."""
import importlib.util
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from simmim_mm.registry import MODELS
from simmim_mm.visualization.reconstruction_grid import MASK_FILL

from conftest import REPO_ROOT, TINY_DEMO_MODEL, make_images

spec = importlib.util.spec_from_file_location(
    'visualize_reconstruction', osp.join(REPO_ROOT, 'tools', 'visualize_reconstruction.py'))
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)

PIPELINE = """
train_pipeline = [
    dict(type='LoadImageFromFile'{load}),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.67, 1.0)),
    dict(type='SimMIMMaskGenerator', input_size=64, mask_patch_size={mask_patch},
         model_patch_size={model_patch}, mask_ratio=0.6),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
"""
MODELS_CFG = {
    # name: (base config, model override, mask_patch, model_patch)
    'swin': ('pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py',
             '\n' + TINY_DEMO_MODEL, 16, 4),
    'swinv2': ('pretrain/simmim_swinv2-base-w12_16xb128-amp-step-800e_in1k-192px.py', """
model = dict(backbone=dict(img_size=64, window_size=[4, 4, 2, 2], arch=dict(
             _delete_=True, embed_dims=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2],
             extra_norm_every_n_blocks=0)))""", 16, 4),
    'vit': ('pretrain/simmim_vit-base-p16_16xb128-amp-step-800e_in1k-224px.py', """
model = dict(backbone=dict(img_size=64, arch=dict(_delete_=True, embed_dims=32, num_layers=2,
             num_heads=2, feedforward_channels=64)))""", 32, 16),
    'swin_4ch': ('pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py', """
data_preprocessor = dict(mean=[128.0], std=[64.0], to_rgb=False)
model = dict(
    backbone=dict(img_size=64, in_channels=4, arch=dict(_delete_=True, embed_dims=16,
                  depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2]),
                  stage_cfgs=dict(block_cfgs=dict(window_size=2))))""", 16, 4),
}


def write_config(tmp_path, name):
    base, model, mask_patch, model_patch = MODELS_CFG[name]
    load = ", color_type='unchanged'" if name == 'swin_4ch' else ''
    path = tmp_path / f'{name}.py'
    path.write_text(f"_base_ = {osp.join(REPO_ROOT, 'configs', base)!r}\n" + model +
                    PIPELINE.format(load=load, mask_patch=mask_patch, model_patch=model_patch))
    return str(path)


def write_checkpoint(tmp_path, config, seed=0, drop=()):
    torch.manual_seed(seed)
    cfg = Config.fromfile(config)
    model = MODELS.build(dict(cfg.model, data_preprocessor=cfg.data_preprocessor))
    model.init_weights()
    state = {k: v for k, v in model.state_dict().items() if not any(part in k for part in drop)}
    path = str(tmp_path / f'ckpt_{seed}.pth')
    torch.save(dict(state_dict=state, meta=dict()), path)
    return path, model


def run(config, ckpt, images, out, *extra):
    return tool.main([config, ckpt, *images, '--out', str(out), *extra])


def panels(path, size=64):
    grid = np.asarray(Image.open(path).convert('RGB'))
    return [grid[:, i * size:(i + 1) * size] for i in range(4)]


@pytest.mark.parametrize('name', ['swin', 'swinv2', 'vit'])
def test_one_picture_per_image_for_each_encoder(tmp_path, name):
    config = write_config(tmp_path, name)
    ckpt, _ = write_checkpoint(tmp_path, config)
    images = make_images(tmp_path / 'imgs', count=2, size=(96, 120))
    paths = run(config, ckpt, images, tmp_path / 'out')
    assert [osp.basename(p) for p in paths] == ['img0.png', 'img1.png']
    for path in paths:
        original, masked, rebuilt, pasted = panels(path)
        assert Image.open(path).size == (4 * 64, 64)
        hidden = (masked == MASK_FILL).all(-1)
        # 10 of the 16 (swin) or 3 of the 4 (vit) mask blocks: ceil(blocks * 0.6)
        expected = 10 / 16 if name != 'vit' else 3 / 4
        assert hidden.mean() == pytest.approx(expected, abs=0.02)
        np.testing.assert_array_equal(pasted[~hidden], original[~hidden])
        np.testing.assert_array_equal(pasted[hidden], rebuilt[hidden])


def test_masks_follow_seed_and_mask_ratio(tmp_path):
    config = write_config(tmp_path, 'swin')
    ckpt, _ = write_checkpoint(tmp_path, config)
    image = make_images(tmp_path / 'imgs', count=1)

    def hidden(*extra, out='out'):
        path, = run(config, ckpt, image, tmp_path / out, *extra)
        return (panels(path)[1] == MASK_FILL).all(-1)

    first = hidden()
    np.testing.assert_array_equal(hidden(out='again'), first)
    assert not np.array_equal(hidden('--seed', '1'), first)
    assert hidden('--mask-ratio', '0.3').mean() == pytest.approx(5 / 16, abs=0.02)


def test_checkpoint_weights_are_what_reconstructs(tmp_path):
    """Converted checkpoints leave out buffers (relative_position_index); the weights in
    the file are the ones used, and different weights give a different reconstruction."""
    config = write_config(tmp_path, 'swin')
    ckpt, saved = write_checkpoint(tmp_path, config, drop=('relative_position_index', ))
    loaded = tool.load_model(Config.fromfile(config), ckpt)
    for key, value in saved.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value, rtol=0, atol=0)
    other, _ = write_checkpoint(tmp_path, config, seed=1)
    image = make_images(tmp_path / 'imgs', count=1)
    a, = run(config, ckpt, image, tmp_path / 'a')
    b, = run(config, other, image, tmp_path / 'b')
    assert not np.array_equal(panels(a)[2], panels(b)[2])
    np.testing.assert_array_equal(panels(a)[0], panels(b)[0])


def test_checkpoints_without_the_models_weights_are_refused(tmp_path):
    config = write_config(tmp_path, 'swin')
    ckpt, _ = write_checkpoint(tmp_path, config, drop=('neck.', ))
    image = make_images(tmp_path / 'imgs', count=1)
    with pytest.raises(ValueError, match=r'ckpt_0\.pth lacks 2 weights.*neck\.decoder'):
        run(config, ckpt, image, tmp_path / 'out')
    official = str(tmp_path / 'official.pth')
    torch.save(dict(model={'encoder.mask_token': torch.zeros(1, 1, 16)}), official)
    with pytest.raises(ValueError, match='official.pth lacks .*tools/convert_checkpoint.py'):
        run(config, official, image, tmp_path / 'out')
    with pytest.raises(FileNotFoundError, match='IMAGE nowhere.png'):
        run(config, ckpt, ['nowhere.png'], tmp_path / 'out')


def test_multi_channel_images_are_shown_channelwise(tmp_path):
    config = write_config(tmp_path, 'swin_4ch')
    ckpt, _ = write_checkpoint(tmp_path, config)
    images = make_images(tmp_path / 'imgs', count=2, channels=4)
    path = run(config, ckpt, images, tmp_path / 'out')[0]
    grid = np.asarray(Image.open(path))
    assert grid.shape == (4 * 64, 4 * 64, 3)  # a row per channel, grey
    assert (grid[..., 0] == grid[..., 1]).all() and (grid[..., 1] == grid[..., 2]).all()
    # row c shows channel c of the model's input (4 channels in file order)
    pipeline = tool.inference_pipeline(Config.fromfile(config), config)
    inputs = pipeline(dict(img_path=images[0], sample_idx=0))['inputs'].numpy()
    assert inputs.shape == (4, 64, 64)
    np.testing.assert_array_equal(grid[:, :64, 0].reshape(4, 64, 64), inputs)

    path_rgb = run(config, ckpt, images, tmp_path / 'rgb', '--channels', 'rgb')[0]
    rgb = np.asarray(Image.open(path_rgb))
    assert rgb.shape == (64, 4 * 64, 3)
    np.testing.assert_array_equal(rgb[:, :64], inputs[:3].transpose(1, 2, 0))
