import math

import pytest
import torch
from mmengine.optim import LinearLR

from simmim_mm.engine import FullPhaseCosineAnnealingLR


def official_lr(t, base, warmup_lr, min_lr, warmup, total):
    """timm CosineLRScheduler(t_initial=total, warmup_t=warmup), as the official SimMIM."""
    if t < warmup:
        return warmup_lr + t * (base - warmup_lr) / warmup
    return min_lr + 0.5 * (base - min_lr) * (1 + math.cos(math.pi * t / total))


def run_schedule(base, total, warmup, steps, resume_from=None):
    """Record the lr of `steps` iterations; resume_from = (optimizer, scheduler) states."""
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=base)
    schedulers = [
        LinearLR(optimizer, start_factor=0.005, by_epoch=False, begin=0, end=warmup),
        FullPhaseCosineAnnealingLR(
            optimizer, T_max=total, eta_min_ratio=0.05, by_epoch=False, begin=warmup, end=total)
    ]
    if resume_from is not None:  # in the Runner's order: optimizer, then schedulers
        optimizer.load_state_dict(resume_from[0])
        for scheduler, state in zip(schedulers, resume_from[1]):
            scheduler.load_state_dict(state)
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()
    return lrs, (optimizer.state_dict(), [s.state_dict() for s in schedulers])


def test_matches_the_official_cosine_after_warmup():
    base, total, warmup = 8e-4, 100, 10
    lrs, _ = run_schedule(base, total, warmup, total)
    for t in range(warmup, total):
        assert lrs[t] == pytest.approx(
            official_lr(t, base, base * 0.005, base * 0.05, warmup, total), rel=1e-9)
    # unlike mmengine's CosineAnnealingLR, the phase at the end of warmup is 10/100, not 0
    assert lrs[warmup] < 0.98 * base
    assert lrs[50] == pytest.approx(base * 0.05 + (base - base * 0.05) * 0.5)
    # warmup starts at the warmup lr and rises linearly
    assert lrs[0] == pytest.approx(base * 0.005)
    assert all(a < b for a, b in zip(lrs[:warmup], lrs[1:warmup]))


def test_resumed_schedule_continues_exactly():
    full, _ = run_schedule(1.0, 50, 5, 50)
    first, state = run_schedule(1.0, 50, 5, 20)
    rest, _ = run_schedule(1.0, 50, 5, 30, resume_from=state)
    assert first + rest == pytest.approx(full, rel=1e-12)
