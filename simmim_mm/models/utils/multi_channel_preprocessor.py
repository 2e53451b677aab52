"""A self-supervised data preprocessor for images of any channel count."""
from typing import Optional, Sequence

import torch
from mmpretrain.models.utils import SelfSupDataPreprocessor

from simmim_mm.registry import MODELS


@MODELS.register_module()
class MultiChannelDataPreprocessor(SelfSupDataPreprocessor):
    """mmpretrain's SelfSupDataPreprocessor with one mean / std value per channel for any
    channel count (multispectral bands), where mmengine's accepts 1 or 3 values only. The
    same otherwise: ``to_rgb`` swaps 3 colour channels, so N-band data sets it False."""

    def __init__(self,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 **kwargs):
        lengths = [len(v) for v in (mean, std) if v is not None]
        if len(lengths) == 1:
            raise ValueError('model.data_preprocessor: give both mean and std, or neither')
        many = any(n not in (1, 3) for n in lengths)
        if many and lengths[0] != lengths[1] and 1 not in lengths:
            raise ValueError(f'model.data_preprocessor.mean has {lengths[0]} values, std '
                             f'{lengths[1]}: give one per channel')
        super().__init__(mean=[0.0] if many else mean, std=[1.0] if many else std, **kwargs)
        if many:  # replaces the placeholder buffers, as mmengine registers them
            self.register_buffer('mean', torch.tensor(mean).view(-1, 1, 1), False)
            self.register_buffer('std', torch.tensor(std).view(-1, 1, 1), False)
