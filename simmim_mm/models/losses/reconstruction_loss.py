from typing import Optional

import torch.nn.functional as F
from torch import Tensor, nn

from simmim_mm.registry import MODELS


def upsample_mask(mask: Tensor, size) -> Tensor:
    """(B, h, w) patch-grid mask -> (B, 1, H, W) pixel mask, each patch repeated."""
    patch_h, patch_w = size[0] // mask.shape[-2], size[1] // mask.shape[-1]
    return (mask.repeat_interleave(patch_h, 1).repeat_interleave(patch_w, 2).unsqueeze(1).float())


def normalize_targets(targets: Tensor, window: int) -> Tensor:
    """Standardize each pixel by the mean and unbiased variance of the ``window`` x ``window``
    neighbourhood around it (the image border shrinks the neighbourhood), as the SwinV2 /
    data-scaling SimMIM does."""
    if window % 2 != 1:
        raise ValueError(f'norm_target_window must be odd, got {window}')
    pool = dict(kernel_size=window, stride=1, padding=window // 2)
    mean = F.avg_pool2d(targets, count_include_pad=False, **pool)
    mean_sq = F.avg_pool2d(targets**2, count_include_pad=False, **pool)
    count = F.avg_pool2d(
        targets.new_ones(targets.shape), count_include_pad=True, **pool) * window**2
    var = ((mean_sq - mean**2) * (count / (count - 1))).clamp(min=0)
    return (targets - mean) / (var + 1e-6)**0.5


@MODELS.register_module()
class SimMIMReconstructionLoss(nn.Module):
    """Pixel regression on masked pixels only, as the official SimMIM computes it:
    ``(|pred - target| * m).sum() / (m.sum() + 1e-5) / C``, m the pixel mask, C the image
    channels (read from the target, so any channel count works).

    Args:
        criterion: 'L1' (the paper) or 'L2' (its ablation).
        norm_target_window: if set (47 in the SwinV2 work), targets are normalized pixels
            standardized over this window (:func:`normalize_targets`); off by default.
    """

    def __init__(self, criterion: str = 'L1', norm_target_window: Optional[int] = None):
        super().__init__()
        criteria = {'L1': F.l1_loss, 'L2': F.mse_loss}
        if criterion not in criteria:
            raise ValueError(f"criterion must be one of {list(criteria)}, got '{criterion}'")
        if norm_target_window is not None and (norm_target_window < 3
                                               or norm_target_window % 2 != 1):
            raise ValueError('norm_target_window must be an odd size >= 3, got '
                             f'{norm_target_window}')
        self.criterion = criterion
        self.norm_target_window = norm_target_window
        self._pixel_loss = criteria[criterion]

    def forward(self, pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
        """pred, target (B, C, H, W); mask (B, h, w) on the encoder's patch grid, 1 = masked."""
        pixel_mask = upsample_mask(mask, target.shape[-2:])
        # computed in fp32 whatever the autocast dtype of the decoder output
        target = target.float()
        if self.norm_target_window is not None:
            target = normalize_targets(target, self.norm_target_window)
        loss = self._pixel_loss(pred.float(), target, reduction='none')
        return (loss * pixel_mask).sum() / (pixel_mask.sum() + 1e-5) / target.shape[1]
