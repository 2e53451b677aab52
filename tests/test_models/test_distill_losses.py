"""The distillation losses against hand computations in numpy, with explicit loops."""
import math

import numpy as np
import pytest
import torch

from simmim_mm.registry import MODELS


def softmax_row(row):
    e = np.exp(row - row.max())
    return e / e.sum()


def hand_relation_kl(teacher, student, a_index, b_index):
    """KL(teacher || student) of softmax(a b^T / sqrt(d)) per (batch, head, row), summed over
    the row and averaged over batch, heads and rows; teacher / student: (q, k, v) numpy."""
    total, count = 0.0, 0
    batch, heads, tokens, _ = teacher[0].shape
    for b in range(batch):
        for h in range(heads):
            for i in range(tokens):
                rows = []
                for qkv in (teacher, student):
                    a, c = qkv[a_index][b, h], qkv[b_index][b, h]
                    d = a.shape[-1]
                    rows.append(
                        softmax_row(
                            np.array([np.dot(a[i], c[j]) / math.sqrt(d) for j in range(tokens)])))
                t, s = rows
                total += sum(t[j] * (math.log(t[j]) - math.log(s[j])) for j in range(tokens))
                count += 1
    return total / count


def test_relation_loss_is_tinymim_kl_of_qk_and_vv():
    gen = torch.Generator().manual_seed(0)
    # 2 images, 3 heads, 5 tokens; teacher head dim 4, student head dim 2 (each its own d)
    teacher = tuple(torch.randn(2, 3, 5, 4, generator=gen, dtype=torch.float64) for _ in range(3))
    student = tuple(torch.randn(2, 3, 5, 2, generator=gen, dtype=torch.float64) for _ in range(3))
    losses = MODELS.build(dict(type='RelationDistillLoss'))(student, teacher)
    t_np = [x.numpy() for x in teacher]
    s_np = [x.numpy() for x in student]
    assert losses['loss_qk'].item() == pytest.approx(hand_relation_kl(t_np, s_np, 0, 1), rel=1e-9)
    assert losses['loss_vv'].item() == pytest.approx(hand_relation_kl(t_np, s_np, 2, 2), rel=1e-9)
    # TinyMIM's own expression: KLDivLoss(reduction='none')(pred.log(), target).sum(-1).mean()
    tq = (teacher[0] @ teacher[1].transpose(-2, -1) / 2).softmax(-1)
    sq = (student[0] @ student[1].transpose(-2, -1) / math.sqrt(2)).softmax(-1)
    tinymim = torch.nn.KLDivLoss(reduction='none')(sq.log(), tq).sum(-1).mean()
    assert losses['loss_qk'].item() == pytest.approx(tinymim.item(), rel=1e-9)


def test_relation_loss_is_zero_for_equal_relations_and_weighted():
    gen = torch.Generator().manual_seed(1)
    qkv = tuple(torch.randn(1, 2, 4, 8, generator=gen) for _ in range(3))
    losses = MODELS.build(dict(type='RelationDistillLoss'))(qkv, qkv)
    assert losses['loss_qk'].item() == pytest.approx(0, abs=1e-6)
    other = tuple(torch.randn(1, 2, 4, 8, generator=gen) for _ in range(3))
    base = MODELS.build(dict(type='RelationDistillLoss'))(other, qkv)
    half = MODELS.build(dict(type='RelationDistillLoss', loss_weight=0.5))(other, qkv)
    assert half['loss_vv'].item() == pytest.approx(base['loss_vv'].item() / 2)
    with pytest.raises(ValueError, match='heads or tokens'):
        MODELS.build(dict(type='RelationDistillLoss'))(other, tuple(x[:, :1] for x in qkv))


@pytest.mark.parametrize('beta', [1.0, 2.0])
def test_feature_loss_is_smooth_l1_to_the_whitened_teacher(beta):
    gen = torch.Generator().manual_seed(2)
    pred = torch.randn(2, 3, 2, 2, generator=gen, dtype=torch.float64) * 2
    teacher = torch.randn(2, 3, 2, 2, generator=gen, dtype=torch.float64) * 5 + 3
    loss = MODELS.build(dict(type='FeatureDistillLoss', beta=beta))(pred, teacher)

    p, t = pred.numpy(), teacher.numpy()
    total = 0.0
    for b in range(2):
        for y in range(2):
            for x in range(2):
                channels = t[b, :, y, x]
                mean = channels.mean()
                var = ((channels - mean)**2).mean()  # biased, as LayerNorm
                for c in range(3):
                    target = (channels[c] - mean) / math.sqrt(var + 1e-5)
                    diff = abs(p[b, c, y, x] - target)
                    total += 0.5 * diff**2 / beta if diff < beta else diff - 0.5 * beta
    assert loss.item() == pytest.approx(total / pred.numel(), rel=1e-9)


def test_feature_loss_refuses_different_shapes():
    with pytest.raises(ValueError, match='differ'):
        MODELS.build(dict(type='FeatureDistillLoss'))(torch.zeros(1, 4, 2, 2),
                                                      torch.zeros(1, 4, 3, 3))
