"""ReconstructionHook: the same images and masks at every step, through the visualizer."""
import glob
import os.path as osp

import numpy as np
from mmengine.config import Config
from mmengine.runner import Runner
from PIL import Image

from conftest import REPO_ROOT, TINY_DEMO_MODEL, make_images
from simmim_mm.visualization.reconstruction_grid import MASK_FILL


def test_pictures_compare_across_the_run(tmp_path):
    make_images(tmp_path / 'images', count=4)
    config = tmp_path / 'rec_tiny.py'
    config.write_text(f"""
_base_ = {osp.join(REPO_ROOT, 'configs', 'demo/simmim_swin-demo_1xb8-800iter_photos-96px.py')!r}
{TINY_DEMO_MODEL}
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.67, 1.0)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='SimMIMMaskGenerator', input_size=64, mask_patch_size=16, model_patch_size=4),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(_delete_=True, type='CustomDataset', data_root={str(tmp_path / 'images')!r},
                 with_label=False, pipeline=train_pipeline))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
train_cfg = dict(max_iters=4)
optim_wrapper = dict(optimizer=dict(lr=1e-2))
custom_hooks = [dict(type='ReconstructionHook', interval=2, num_images=3)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=100))
""")
    cfg = Config.fromfile(str(config))
    cfg.work_dir, cfg.experiment_name = str(tmp_path / 'work'), 'reconstruction_hook'
    Runner.from_cfg(cfg).train()

    vis = glob.glob(osp.join(cfg.work_dir, '*', 'vis_data', 'vis_image'))[0]
    # written at iterations 2 and 4 (the end of training rewrites the latter)
    steps = sorted(glob.glob(osp.join(vis, 'reconstruction_*.png')))
    assert [osp.basename(p) for p in steps] == ['reconstruction_2.png', 'reconstruction_4.png']
    early, late = (np.asarray(Image.open(p).convert('RGB')) for p in steps)
    latest = np.asarray(Image.open(osp.join(cfg.work_dir, 'reconstruction.png')))
    assert early.shape == (3 * 64, 4 * 64, 3)
    np.testing.assert_array_equal(latest, late)
    # originals and masked inputs are the same pictures; the reconstructions moved on
    np.testing.assert_array_equal(early[:, :128], late[:, :128])
    assert (early[:, 64:128] == MASK_FILL).all(-1).mean() > 0.5
    assert not np.array_equal(early[:, 128:192], late[:, 128:192])
