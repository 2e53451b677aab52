from typing import Dict, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from simmim_mm.registry import MODELS


def relation_logits(a: Tensor, b: Tensor) -> Tensor:
    """a b^T / sqrt(d) per head, d the head dim of these tensors: (..., N, d) -> (..., N, N),
    in at least fp32 (the caller turns autocast off: softmaxes of 197 logits in fp16 lose the
    small relations the KL divergence weighs)."""
    dtype = torch.promote_types(a.dtype, torch.float32)
    a, b = a.to(dtype), b.to(dtype)
    return a @ b.transpose(-2, -1) * a.shape[-1]**-0.5


def relation_kl(teacher_logits: Tensor, student_logits: Tensor) -> Tensor:
    """KL(teacher || student) of the row-wise softmaxes, summed over each row and averaged
    over everything else (batch, heads, rows): TinyMIM's
    ``KLDivLoss(reduction='none')(student.log(), teacher).sum(-1).mean()``, with the
    student's log taken as a log-softmax, which cannot underflow to -inf."""
    teacher = teacher_logits.softmax(dim=-1)
    log_student = student_logits.log_softmax(dim=-1)
    return F.kl_div(log_student, teacher, reduction='none').sum(-1).mean()


@MODELS.register_module()
class RelationDistillLoss(nn.Module):
    """TinyMIM's relation distillation (Ren et al., CVPR 2023): the student's Q-K and V-V
    relations, softmax(q k^T / sqrt(d)) and softmax(v v^T / sqrt(d)) per head (d each
    model's own head dim), match the teacher's in KL divergence. Returns both terms
    (``loss_qk``, ``loss_vv``), whose sum is the loss; ``loss_weight`` scales both."""

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, student_qkv: Tuple[Tensor, Tensor, Tensor],
                teacher_qkv: Tuple[Tensor, Tensor, Tensor]) -> Dict[str, Tensor]:
        """Each qkv: (q, k, v), each (B, heads, N, head dim); heads and N must agree."""
        (sq, sk, sv), (tq, tk, tv) = student_qkv, teacher_qkv
        if sq.shape[:3] != tq.shape[:3]:
            raise ValueError(f'student q {tuple(sq.shape)} and teacher q {tuple(tq.shape)} '
                             'differ in batch, heads or tokens')
        with torch.autocast(device_type=sq.device.type, enabled=False):
            qk = relation_kl(relation_logits(tq, tk), relation_logits(sq, sk))
            vv = relation_kl(relation_logits(tv, tv), relation_logits(sv, sv))
        return dict(loss_qk=self.loss_weight * qk, loss_vv=self.loss_weight * vv)
