from typing import Dict, Tuple

import torch
from mmpretrain.models import SimMIMSwinTransformer as MMPretrainSimMIMSwin
from mmpretrain.models.utils.attention import ShiftWindowMSA
from torch import Tensor

from simmim_mm.compat.mmpretrain import use_shift_window_attention
from simmim_mm.registry import MODELS


class PermuteTokens(torch.autograd.Function):
    """``x[:, index]`` whose backward is the inverse permutation (a gather, not a scatter)."""

    @staticmethod
    def forward(ctx, x: Tensor, index: Tensor, inverse: Tensor) -> Tensor:
        ctx.save_for_backward(inverse)
        return x.index_select(1, index)

    @staticmethod
    def backward(ctx, grad: Tensor):
        inverse, = ctx.saved_tensors
        return grad.index_select(1, inverse), None, None


def window_order(height: int, width: int, window: int, shift: int) -> Tensor:
    """Token indices in the order of a cyclic shift by ``shift`` followed by the partition
    into ``window`` x ``window`` windows, as ShiftWindowMSA's roll and window_partition."""
    grid = torch.arange(height * width).view(height, width)
    grid = torch.roll(grid, shifts=(-shift, -shift), dims=(0, 1))
    return grid.view(height // window, window, width // window, window).permute(0, 2, 1,
                                                                                3).reshape(-1)


class WindowOrderShiftWindowMSA(ShiftWindowMSA):
    """mmpretrain's ShiftWindowMSA computing the same values with two token permutations
    (into windows, and back) instead of pad, roll, partition, reverse and roll copies, and
    with the shift mask built once per feature-map size rather than every forward. Same
    parameters and buffers; maps that need padding take mmpretrain's path."""

    def forward(self, query: Tensor, hw_shape: Tuple[int, int]) -> Tensor:
        height, width = hw_shape
        window = self.window_size
        if self.pad_small_map or height % window or width % window:
            return super().forward(query, hw_shape)
        # as mmpretrain: no shift where the window covers the whole map
        shift = self.shift_size if min(height, width) > window else 0
        index, inverse, attn_mask = self._layout(height, width, shift, query.device)
        batch, tokens, channels = query.shape
        windows = PermuteTokens.apply(query, index, inverse).view(-1, window**2, channels)
        out = self.w_msa(windows, mask=attn_mask).view(batch, tokens, channels)
        return self.drop(PermuteTokens.apply(out, inverse, index))

    def _layout(self, height: int, width: int, shift: int, device) -> tuple:
        cache: Dict[tuple, tuple] = self.__dict__.setdefault('_layouts', {})
        key = (height, width, shift, str(device))
        if key not in cache:
            index = window_order(height, width, self.window_size, shift)
            mask = self.get_attn_mask((height, width), self.window_size, shift, device)
            cache[key] = (index.to(device), torch.argsort(index).to(device), mask)
        return cache[key]


@MODELS.register_module()
class SimMIMSwinTransformer(MMPretrainSimMIMSwin):
    """mmpretrain's SimMIMSwinTransformer (same arguments, parameters and outputs) with
    window attention in window order (:class:`WindowOrderShiftWindowMSA`): fewer copies per
    block. ``mmpretrain.SimMIMSwinTransformer`` names the original."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        for stage in self.stages:
            for block in stage.blocks:
                use_shift_window_attention(block, WindowOrderShiftWindowMSA)
