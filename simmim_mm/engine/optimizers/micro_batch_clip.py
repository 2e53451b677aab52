"""The official SimMIM's gradient clipping under gradient accumulation: after every
micro-batch, not once before the step."""

import torch

from simmim_mm.compat.mmengine import accumulative_counts


class MicroBatchClipMixin:
    """For an AmpOptimWrapper: with ``accumulative_counts=A > 1`` and ``clip_grad``, clips as
    the official SimMIM code does, quirk included.

    Each micro-batch loss is divided by A, and the gradient is clipped after EVERY
    micro-batch backward (the partial sum so far, not only the full sum before the step);
    the optimizer steps every A-th micro-batch. MMEngine would clip once, before the step.
    So that every partial sum is the global one as in the official code, gradients are
    synchronized across ranks after every micro-batch (no ``no_sync``). The logged grad norm
    is the last micro-batch's, the norm the official code logs. Without accumulation or
    clipping, the wrapper's own ``update_params`` and ``step`` run unchanged.
    """

    @property
    def clips_every_micro_batch(self) -> bool:
        """Whether the official per-micro-batch clipping of gradient accumulation applies."""
        return accumulative_counts(self) > 1 and bool(self.clip_grad_kwargs)

    def should_sync(self) -> bool:
        # the official code all-reduces every micro-batch and clips the global partial sum
        return self.clips_every_micro_batch or super().should_sync()

    def update_params(self, loss, step_kwargs=None, zero_kwargs=None):
        if not self.clips_every_micro_batch:
            return super().update_params(loss, step_kwargs, zero_kwargs)
        self.backward(self.scale_loss(loss))
        self._clip_partial_sum()
        if self.should_update():
            self.step(**(step_kwargs or {}))
            self.zero_grad(**(zero_kwargs or {}))

    def step(self, **kwargs):
        if not self.clips_every_micro_batch:
            return super().step(**kwargs)
        # clipped already, after the last micro-batch's backward; GradScaler.step unscales
        self.loss_scaler.step(self.optimizer, **kwargs)
        self.loss_scaler.update(self._scale_update_param)

    def _clip_partial_sum(self) -> None:
        """Clips the gradient accumulated so far, as the official code after each backward.
        A loss scaler's scale (a power of two: exact) is taken out for the clip and put back,
        since ``GradScaler.unscale_`` may run only once per optimizer step."""
        scale = self.loss_scaler.get_scale() if self.loss_scaler.is_enabled() else 1.0
        grads = [
            p.grad for group in self.optimizer.param_groups for p in group['params']
            if p.grad is not None
        ]
        if scale != 1.0 and grads:
            torch._foreach_mul_(grads, 1.0 / scale)
        self._clip_grad()  # OptimWrapper's: clip_func, and the logged norm
        if scale != 1.0 and grads:
            torch._foreach_mul_(grads, scale)
