from typing import Optional

from mmengine.model import BaseModule
from torch import Tensor

from simmim_mm.registry import MODELS

from ..losses import SimMIMReconstructionLoss


@MODELS.register_module()
class SimMIMReconstructionHead(BaseModule):
    """SimMIM's head: it scores the decoder's reconstruction with
    :class:`SimMIMReconstructionLoss` through ``loss(pred, target, mask)``, the call mmpretrain's
    SimMIM makes on its head, so ``model.head`` holds a head as in mmpretrain.

    It has no parameters (SimMIM's only decoder layer is the neck), so checkpoints are those of
    a loss in the slot. Its arguments are the loss's, flat, so a config overrides
    ``head=dict(norm_target_window=47)``. Named apart from mmpretrain's ``SimMIMHead``, which
    takes ``patch_size`` and a pixel mask, so ``default_scope`` never picks one for the other.

    Args:
        criterion: 'L1' (the paper) or 'L2' (its ablation).
        norm_target_window: if set, targets are standardized over this window (SwinV2).
        init_cfg: as for any BaseModule; nothing to initialize.
    """

    def __init__(self,
                 criterion: str = 'L1',
                 norm_target_window: Optional[int] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        self.loss_module = SimMIMReconstructionLoss(criterion, norm_target_window)

    def loss(self, pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
        """pred, target (B, C, H, W); mask (B, h, w) on the encoder's patch grid, 1 = masked."""
        return self.loss_module(pred, target, mask)
