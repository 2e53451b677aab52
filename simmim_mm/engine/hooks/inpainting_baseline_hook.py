import json
import os.path as osp
from typing import Optional

import numpy as np
import torch
from mmengine.dataset import default_collate
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.utils import mkdir_or_exist

from simmim_mm.evaluation.inpainting_baseline import inpaint_infill, masked_l1, mean_colour_infill
from simmim_mm.registry import DATASETS, HOOKS


@HOOKS.register_module()
class InpaintingBaselineHook(Hook):
    """At the end of training, scores the model's reconstruction against two classical infills
    of the same images under the same masks, so a loss value says whether the model learned
    more than smooth continuation: OpenCV's inpainting (Telea, ``radius``) and the mean colour
    of each image's visible pixels. The score is the SimMIM loss's: L1 over the masked pixels
    and the channels, in the data preprocessor's normalized space.

    The images are ``dataset`` (a dataset config or object whose pipeline ends in
    ``PackInputs`` with a mask, e.g. ``SeededSimMIMMaskGenerator``), or by default the
    training dataset drawn through its pipeline under the fixed numpy ``seed``, as
    :class:`ReconstructionHook` draws its pictures (the same first images and masks for the
    same seed). ``num_images`` limits them (default: all). Each is drawn ``draws`` times, a
    fresh view and mask each time, since a few images under one mask each make a noisy
    comparison (a ``dataset`` with seeded masks repeats itself: keep 1 there). The model runs
    in eval mode, fp32, without gradients. The table goes to the log and to
    ``<work_dir>/inpainting_baseline.json``. Runs on rank 0 only.
    """

    priority = 'LOW'

    ROWS = (('model', 'SimMIM (this model)'), ('inpaint_telea',
                                               'OpenCV inpaint (Telea, radius {radius})'),
            ('mean_colour', 'mean colour of the visible pixels'))

    def __init__(self,
                 dataset: Optional[dict] = None,
                 num_images: Optional[int] = None,
                 draws: int = 1,
                 seed: int = 0,
                 radius: float = 5,
                 batch_size: int = 16):
        if draws < 1:
            raise ValueError(f'InpaintingBaselineHook: draws must be >= 1, got {draws}')
        self.dataset = dataset
        self.num_images = num_images
        self.draws = draws
        self.seed = seed
        self.radius = radius
        self.batch_size = batch_size
        self.results: Optional[dict] = None
        self.json_path: Optional[str] = None

    def _samples(self, runner) -> list:
        """The images and masks, fixed by ``dataset``'s pipeline or the seed."""
        dataset = self.dataset
        if dataset is None:
            dataset = runner.train_dataloader.dataset
        elif isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        count = len(dataset) if self.num_images is None else min(self.num_images, len(dataset))
        state = np.random.get_state()
        np.random.seed(self.seed)
        try:
            return [dataset[i] for _ in range(self.draws) for i in range(count)]
        finally:
            np.random.set_state(state)

    def evaluate(self, model, samples: list) -> dict:
        """Masked L1 of the model and of both infills over ``samples``, by masked pixel."""
        errors = {key: 0.0 for key, _ in self.ROWS}
        masked_pixels = 0.0
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad(), torch.autocast(
                    next(model.parameters()).device.type, enabled=False):
                for start in range(0, len(samples), self.batch_size):
                    batch = default_collate(samples[start:start + self.batch_size])
                    data = model.data_preprocessor(batch, training=False)
                    inputs = data['inputs'].float()
                    mask = torch.stack([s.mask for s in data['data_samples']])
                    # inpainted as loaded (uint8), then normalized as the model's inputs
                    infilled = dict(
                        batch, inputs=inpaint_infill(batch['inputs'], mask.cpu(), self.radius))
                    predictions = dict(
                        model=model.reconstruct(inputs, mask),
                        inpaint_telea=model.data_preprocessor(infilled, training=False)['inputs'],
                        mean_colour=mean_colour_infill(inputs, mask))
                    # weighted by masked pixels: the same as one pass over all images
                    weight = float(mask.float().sum())
                    for key, prediction in predictions.items():
                        errors[key] += masked_l1(prediction, inputs, mask) * weight
                    masked_pixels += weight
        finally:
            model.train(was_training)
        return {key: error / masked_pixels for key, error in errors.items()}

    def table(self) -> str:
        lines = [
            'Masked-pixel L1, normalized (lower is better), on '
            f'{self.results["num_images"]} images x {self.results["draws"]} draws, the '
            'same views and masks for each row:'
        ]
        for key, label in self.ROWS:
            lines.append(f'  {label.format(radius=self.radius):<40} '
                         f'{self.results["masked_l1"][key]:.3f}')
        return '\n'.join(lines)

    def after_train(self, runner) -> None:
        if runner.rank != 0:
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        samples = self._samples(runner)
        self.results = dict(
            num_images=len(samples) // self.draws,
            draws=self.draws,
            seed=self.seed,
            radius=self.radius,
            masked_l1=self.evaluate(model, samples))
        runner.logger.info(self.table())
        mkdir_or_exist(runner.work_dir)
        self.json_path = osp.join(runner.work_dir, 'inpainting_baseline.json')
        with open(self.json_path, 'w') as f:
            json.dump(self.results, f, indent=2)
