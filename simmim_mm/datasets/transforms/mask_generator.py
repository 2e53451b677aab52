import math
from typing import Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform

from simmim_mm.registry import TRANSFORMS


def _as_hw(name: str, value: Union[int, Sequence[int]]) -> Tuple[int, int]:
    hw = (value, value) if isinstance(value, int) else tuple(value)
    if len(hw) != 2 or not all(isinstance(v, int) and v > 0 for v in hw):
        raise ValueError(f'{name} must be a positive int or (h, w), got {value!r}')
    return hw


@TRANSFORMS.register_module()
class SimMIMMaskGenerator(BaseTransform):
    """The official SimMIM random block mask, one per image.

    ``ceil(num_blocks * mask_ratio)`` of the ``mask_patch_size`` blocks are drawn uniformly
    without replacement and set to 1 (masked); each block is then repeated
    ``mask_patch_size // model_patch_size`` times on both axes, so the mask lives on the
    encoder's patch grid: (48, 48) for Swin at 192 px, (14, 14) for ViT/16 at 224 px.
    Unlike mmpretrain's generator, input sizes may be (h, w) and bad arguments raise.

    Added key: ``mask``, an int array of shape (h // model_patch_size, w // model_patch_size).
    """

    def __init__(self,
                 input_size: Union[int, Sequence[int]] = 192,
                 mask_patch_size: int = 32,
                 model_patch_size: int = 4,
                 mask_ratio: float = 0.6):
        self.input_size = _as_hw('input_size', input_size)
        _as_hw('mask_patch_size', mask_patch_size)
        _as_hw('model_patch_size', model_patch_size)
        for side in self.input_size:
            if side % mask_patch_size:
                raise ValueError(f'input_size={input_size} is not divisible by '
                                 f'mask_patch_size={mask_patch_size}')
        if mask_patch_size % model_patch_size:
            raise ValueError(f'mask_patch_size={mask_patch_size} is not divisible by '
                             f'model_patch_size={model_patch_size}')
        if not 0 < mask_ratio < 1:
            raise ValueError(f'mask_ratio must lie in (0, 1), got {mask_ratio}')
        self.mask_patch_size = mask_patch_size
        self.model_patch_size = model_patch_size
        self.mask_ratio = mask_ratio

        self.block_grid = (self.input_size[0] // mask_patch_size,
                           self.input_size[1] // mask_patch_size)
        self.num_blocks = self.block_grid[0] * self.block_grid[1]
        self.num_masked = math.ceil(self.num_blocks * mask_ratio)
        self.repeat = mask_patch_size // model_patch_size

    def generate(self) -> np.ndarray:
        masked = np.random.permutation(self.num_blocks)[:self.num_masked]
        mask = np.zeros(self.num_blocks, dtype=int)
        mask[masked] = 1
        mask = mask.reshape(self.block_grid)
        return mask.repeat(self.repeat, axis=0).repeat(self.repeat, axis=1)

    def transform(self, results: dict) -> dict:
        img_hw = tuple(results['img'].shape[:2])
        if img_hw != self.input_size:
            raise ValueError(f'SimMIMMaskGenerator: image is {img_hw} but input_size is '
                             f'{self.input_size}; the crop size of the pipeline and '
                             'input_size must agree')
        results['mask'] = self.generate()
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(input_size={self.input_size}, '
                f'mask_patch_size={self.mask_patch_size}, '
                f'model_patch_size={self.model_patch_size}, mask_ratio={self.mask_ratio})')
