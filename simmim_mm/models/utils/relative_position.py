import numpy as np
import torch
from scipy.interpolate import RectBivariateSpline
from torch import Tensor


def _geometric_offsets(src_size: int, dst_size: int) -> np.ndarray:
    """Positions of the source table's rows on the target grid: spaced geometrically so the
    centre keeps unit spacing and the far offsets stretch to reach the target's extent."""

    def progression(ratio, n):
        return (1.0 - ratio**n) / (1.0 - ratio)

    left, right = 1.01, 1.5
    while right - left > 1e-6:
        ratio = (left + right) / 2.0
        if progression(ratio, src_size // 2) > dst_size // 2:
            right = ratio
        else:
            left = ratio
    offsets, cur = [], 1.0
    for i in range(src_size // 2):
        offsets.append(cur)
        cur += ratio**(i + 1)
    return np.array([-d for d in reversed(offsets)] + [0.0] + offsets)


def resize_relative_position_bias_table(table: Tensor,
                                        dst_rows: int,
                                        num_extra_tokens: int = 0) -> Tensor:
    """Resize a ((2w-1)^2 [+ extra], heads) table to ``dst_rows`` rows, as the official SimMIM
    does when the window (or ViT's patch grid) changes for fine-tuning: geometric source grid,
    bicubic spline per head. ``RectBivariateSpline(s=0)`` is the exact replacement of the
    ``interp2d(kind='cubic')`` that the official code (and mmpretrain) call and SciPy 1.14
    removed. The last ``num_extra_tokens`` rows (ViT's cls-token biases) are kept as they are.
    Tables of windows under 3 have too few points for a cubic: the spline order drops.
    """
    src_rows = table.shape[0] - num_extra_tokens
    dst_square = dst_rows - num_extra_tokens
    src_size, dst_size = int(round(src_rows**0.5)), int(round(dst_square**0.5))
    if src_size**2 != src_rows or dst_size**2 != dst_square:
        raise ValueError(f'relative position table of {table.shape[0]} rows (extra '
                         f'{num_extra_tokens}) cannot become {dst_rows} rows: not square')
    if src_size == dst_size:
        return table
    grid = _geometric_offsets(src_size, dst_size)
    t = dst_size // 2
    targets = np.arange(-t, t + 0.1, 1.0)
    order = min(3, src_size - 1)
    columns = []
    for head in table[:src_rows].float().T.cpu().numpy():
        spline = RectBivariateSpline(
            grid, grid, head.reshape(src_size, src_size), kx=order, ky=order, s=0)
        columns.append(torch.from_numpy(spline(targets, targets)).reshape(-1, 1))
    resized = torch.cat(columns, dim=1).to(table.dtype)
    return torch.cat([resized, table[src_rows:]], dim=0)
