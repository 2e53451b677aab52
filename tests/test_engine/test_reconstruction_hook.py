"""ReconstructionHook: the same images and masks at every step, through the visualizer."""
import glob
import os.path as osp

import numpy as np
from mmengine.config import Config
from mmengine.runner import Runner
from PIL import Image

from simmim_mm.visualization.reconstruction_grid import MASK_FILL

from conftest import TINY_TRAIN_PIPELINE, demo_config, make_images


def test_pictures_compare_across_the_run(tmp_path):
    make_images(tmp_path / 'images', count=4)
    config = tmp_path / 'rec_tiny.py'
    config.write_text(
        demo_config(
            str(tmp_path / 'images'),
            4,
            before=f'train_pipeline = {TINY_TRAIN_PIPELINE}',
            pipeline='train_pipeline',
            custom_hooks="[dict(type='ReconstructionHook', interval=2, num_images=3)]",
            after='optim_wrapper = dict(optimizer=dict(lr=1e-2))'))
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
