"""Skip an optimizer step whose loss is NaN or infinite instead of writing it into the
weights (NonFiniteLossHook logs the count and stops a run that keeps diverging)."""
import torch
import torch.distributed as dist

from simmim_mm.compat.mmengine import count_skipped_step


def finite_on_every_rank(loss: torch.Tensor) -> bool:
    """Whether the loss is finite on all ranks: every rank must take the same decision, or
    DDP's gradient all-reduce waits forever for the ranks that skipped backward."""
    finite = torch.isfinite(loss.detach()).all().float()
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(finite, op=dist.ReduceOp.MIN)
    return bool(finite.item())


class SkipNonFiniteStepMixin:
    """For an OptimWrapper: a micro-batch whose loss is NaN or infinite (on any rank) has no
    backward and no step, and drops the partial accumulation window; it still counts as a
    micro-batch, so later windows stay aligned. ``nonfinite_streak`` (consecutive) and
    ``skipped_steps`` (all) count them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.nonfinite_streak = 0
        self.skipped_steps = 0

    def update_params(self, loss, step_kwargs=None, zero_kwargs=None):
        if finite_on_every_rank(loss):
            self.nonfinite_streak = 0
            return super().update_params(loss, step_kwargs, zero_kwargs)
        self.nonfinite_streak += 1
        self.skipped_steps += 1
        count_skipped_step(self)
        self.zero_grad(**(zero_kwargs or {}))  # also drops a partial accumulation window
