import os.path as osp
from typing import Optional

import numpy as np
import torch
from mmengine.dataset import default_collate
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.utils import mkdir_or_exist
from PIL import Image

from simmim_mm.registry import HOOKS
from simmim_mm.visualization import reconstruction_grid, shows_channelwise


@HOOKS.register_module()
class ReconstructionHook(Hook):
    """Writes what the model reconstructs from the same few training images and masks every
    ``interval`` iterations and at the end of training, so pictures compare across the run.

    Each picture is a grid (original | masked | reconstruction | pasted) sent to the
    visualizer's backends (local files, TensorBoard, W&B) and saved as
    ``<work_dir>/reconstruction.png`` (the latest) for a quick look. Images of other than
    1 or 3 channels are shown one channel per row unless ``channelwise`` says otherwise.
    """

    priority = 'LOW'

    def __init__(self,
                 interval: int = 1000,
                 num_images: int = 4,
                 seed: int = 0,
                 channelwise: Optional[bool] = None):
        self.interval = interval
        self.num_images = num_images
        self.seed = seed
        self.channelwise = channelwise
        self._batch: Optional[dict] = None
        self.last_path: Optional[str] = None

    def _fixed_batch(self, runner) -> dict:
        """Images and masks drawn once through the training pipeline under a fixed seed."""
        dataset = runner.train_dataloader.dataset
        state = np.random.get_state()
        np.random.seed(self.seed)
        try:
            samples = [dataset[i] for i in range(min(self.num_images, len(dataset)))]
        finally:
            np.random.set_state(state)
        return default_collate(samples)

    def _write(self, runner, step: int) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if self._batch is None:
            self._batch = self._fixed_batch(runner)
        was_training = model.training
        model.eval()
        with torch.no_grad():
            data = model.data_preprocessor(self._batch, training=False)
            inputs, samples = data['inputs'], data['data_samples']
            mask = torch.stack([s.mask for s in samples])
            reconstruction = model.reconstruct(inputs, mask)
        model.train(was_training)
        preprocessor = model.data_preprocessor
        channelwise = self.channelwise
        if channelwise is None:
            channelwise = shows_channelwise(inputs.shape[1])
        grid = reconstruction_grid(inputs, reconstruction, mask, preprocessor.mean.flatten(),
                                   preprocessor.std.flatten(), channelwise)
        runner.visualizer.add_image('reconstruction', grid, step=step)
        mkdir_or_exist(runner.work_dir)
        self.last_path = osp.join(runner.work_dir, 'reconstruction.png')
        Image.fromarray(grid).save(self.last_path)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if self.every_n_train_iters(runner, self.interval) and runner.rank == 0:
            self._write(runner, runner.iter + 1)

    def after_train(self, runner) -> None:
        if runner.rank == 0:
            self._write(runner, runner.iter)
            runner.logger.info(f'Reconstruction picture: {self.last_path}')
