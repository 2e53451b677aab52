import torch.nn.functional as F
from torch import Tensor, nn

from simmim_mm.registry import MODELS


def upsample_mask(mask: Tensor, size) -> Tensor:
    """(B, h, w) patch-grid mask -> (B, 1, H, W) pixel mask, each patch repeated."""
    patch_h, patch_w = size[0] // mask.shape[-2], size[1] // mask.shape[-1]
    return (mask.repeat_interleave(patch_h, 1).repeat_interleave(patch_w, 2)
            .unsqueeze(1).float())


@MODELS.register_module()
class SimMIMReconstructionLoss(nn.Module):
    """Pixel regression on masked pixels only, as the official SimMIM computes it:
    ``(|pred - target| * m).sum() / (m.sum() + 1e-5) / C``, m the pixel mask, C the image
    channels (read from the target, so any channel count works).

    Args:
        criterion: 'L1' (the paper) or 'L2' (its ablation).
    """

    def __init__(self, criterion: str = 'L1'):
        super().__init__()
        criteria = {'L1': F.l1_loss, 'L2': F.mse_loss}
        if criterion not in criteria:
            raise ValueError(f"criterion must be one of {list(criteria)}, got '{criterion}'")
        self.criterion = criterion
        self._pixel_loss = criteria[criterion]

    def forward(self, pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
        """pred, target (B, C, H, W); mask (B, h, w) on the encoder's patch grid, 1 = masked."""
        pixel_mask = upsample_mask(mask, target.shape[-2:])
        # computed in fp32 whatever the autocast dtype of the decoder output
        loss = self._pixel_loss(pred.float(), target.float(), reduction='none')
        return (loss * pixel_mask).sum() / (pixel_mask.sum() + 1e-5) / target.shape[1]
