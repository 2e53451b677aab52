import torch
import torch.nn.functional as F
from torch import Tensor, nn

from simmim_mm.registry import MODELS


def whiten(features: Tensor) -> Tensor:
    """LayerNorm without affine parameters over the channels of a (B, C, H, W) map: FD's
    target normalisation, which puts teachers of any scale on one footing."""
    return F.layer_norm(features.permute(0, 2, 3, 1), features.shape[1:2]).permute(0, 3, 1, 2)


@MODELS.register_module()
class FeatureDistillLoss(nn.Module):
    """Feature Distillation (Wei et al. 2022): smooth-L1 (``beta``) between the student's
    projected feature map and the teacher's, whitened (:func:`whiten`), averaged over all
    elements. The official code uses beta 2.0 (configs/distill set it); 1.0 here is
    PyTorch's default."""

    def __init__(self, beta: float = 1.0, loss_weight: float = 1.0):
        super().__init__()
        self.beta = beta
        self.loss_weight = loss_weight

    def forward(self, prediction: Tensor, teacher_features: Tensor) -> Tensor:
        """prediction, teacher_features: (B, C, H, W) of the same shape."""
        if prediction.shape != teacher_features.shape:
            raise ValueError(f'student prediction {tuple(prediction.shape)} and teacher '
                             f'features {tuple(teacher_features.shape)} differ')
        dtype = torch.promote_types(prediction.dtype, torch.float32)  # fp32 under autocast
        target = whiten(teacher_features.to(dtype))
        loss = F.smooth_l1_loss(prediction.to(dtype), target, beta=self.beta)
        return self.loss_weight * loss
