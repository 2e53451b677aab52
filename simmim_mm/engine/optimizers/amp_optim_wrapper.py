from contextlib import contextmanager

import torch
import torch.distributed as dist
from mmengine.device import get_device
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from simmim_mm.registry import OPTIM_WRAPPERS


def cpu_has_fast_bfloat16() -> bool:
    """Whether this CPU computes bf16 matmuls natively (AVX-512 BF16 or AMX). Without them
    torch falls back to a reference kernel ~100x slower than fp32 (measured on an AVX2 EPYC)."""
    cpu = torch.cpu
    checks = ('_is_avx512_bf16_supported', '_is_amx_tile_supported')
    return any(getattr(cpu, name, lambda: False)() for name in checks)


def finite_on_every_rank(loss: torch.Tensor) -> bool:
    """Whether the loss is finite on all ranks: every rank must take the same decision, or
    DDP's gradient all-reduce waits forever for the ranks that skipped backward."""
    finite = torch.isfinite(loss.detach()).all().float()
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(finite, op=dist.ReduceOp.MIN)
    return bool(finite.item())


@OPTIM_WRAPPERS.register_module()
class AnyDeviceAmpOptimWrapper(AmpOptimWrapper):
    """MMEngine's AmpOptimWrapper, which refuses to build without a GPU, made to run anywhere.

    On CUDA / NPU / MLU / MUSA it is AmpOptimWrapper unchanged: the official SimMIM's fp16
    autocast with dynamic loss scaling (or ``dtype`` if given). On a CPU with native bf16
    (AVX-512 BF16, AMX) it autocasts to bfloat16, the only dtype CPU autocast has, with no loss
    scaler (bf16 has fp32's range). On other CPUs it trains in fp32, since emulated bf16 is
    far slower. So one config trains on a laptop, in CI and on a cluster. ``dtype='float32'``
    turns autocast off everywhere; ``dtype='bfloat16'`` on a CPU forces it even where emulated.

    A step whose loss is NaN or infinite (on any rank) is skipped rather than written into the
    weights; ``nonfinite_streak`` / ``skipped_steps`` count them for NonFiniteLossHook.

    ``use_fsdp=True`` (FSDPStrategy): each rank holds a shard of every gradient, so gradient
    clipping uses the norm over all ranks' shards, as one process would; MMEngine's
    OptimWrapper would clip each shard by its own norm.

    Gradient accumulation (``accumulative_counts=A > 1``, ``tools/train.py
    --accumulation-steps A``) with ``clip_grad`` follows the official SimMIM code, quirk
    included: each micro-batch loss is divided by A, and the gradient is clipped after EVERY
    micro-batch backward (the partial sum so far, not only the full sum before the step); the
    optimizer steps every A-th micro-batch. MMEngine would clip once, before the step. So that
    every partial sum is the global one as in the official code, gradients are synchronized
    across ranks after every micro-batch (no ``no_sync``). The logged grad norm is the last
    micro-batch's, the norm the official code logs.
    """

    def __init__(self, loss_scale='dynamic', dtype=None, use_fsdp=False, **kwargs):
        self.autocast_enabled = True
        self.nonfinite_streak = 0
        self.skipped_steps = 0
        self.sharded_gradients = use_fsdp
        on_cpu, fp32 = get_device() == 'cpu', dtype in ('float32', torch.float32)
        if not on_cpu and not fp32:
            super().__init__(loss_scale=loss_scale, dtype=dtype, use_fsdp=use_fsdp, **kwargs)
            return
        OptimWrapper.__init__(self, **kwargs)
        self._scale_update_param = None
        self.loss_scaler = torch.amp.GradScaler(get_device(), enabled=False)  # passes through
        forced_bf16, native_bf16 = dtype in ('bfloat16', torch.bfloat16), cpu_has_fast_bfloat16()
        self.autocast_enabled = on_cpu and not fp32 and (forced_bf16 or native_bf16)
        self.cast_dtype = torch.bfloat16 if self.autocast_enabled else None
        if fp32:
            return
        if forced_bf16 and not native_bf16:
            print_log('AnyDeviceAmpOptimWrapper: bfloat16 as asked, but this CPU emulates it '
                      '(no AVX-512 BF16 / AMX): expect it to be far slower than float32',
                      logger='current', level=30)
        elif not self.autocast_enabled:
            print_log('AnyDeviceAmpOptimWrapper: this CPU has no native bfloat16 '
                      '(AVX-512 BF16 / AMX), training in float32', logger='current')
        elif dtype not in (None, 'bfloat16', torch.bfloat16):
            print_log(f'AnyDeviceAmpOptimWrapper: CPU autocast has no {dtype}; using '
                      'bfloat16', logger='current')

    @contextmanager
    def optim_context(self, model):
        context = (super().optim_context if self.autocast_enabled
                   else super(AmpOptimWrapper, self).optim_context)
        with context(model):
            yield

    @property
    def clips_every_micro_batch(self) -> bool:
        """Whether the official per-micro-batch clipping of gradient accumulation applies."""
        return self._accumulative_counts > 1 and bool(self.clip_grad_kwargs)

    def should_sync(self) -> bool:
        # the official code all-reduces every micro-batch and clips the global partial sum
        return self.clips_every_micro_batch or super().should_sync()

    def update_params(self, loss, step_kwargs=None, zero_kwargs=None):
        if finite_on_every_rank(loss):
            self.nonfinite_streak = 0
            if not self.clips_every_micro_batch:
                return super().update_params(loss, step_kwargs, zero_kwargs)
            self.backward(self.scale_loss(loss))
            self._clip_partial_sum()
            if self.should_update():
                self.step(**(step_kwargs or {}))
                self.zero_grad(**(zero_kwargs or {}))
            return
        self.nonfinite_streak += 1
        self.skipped_steps += 1
        self._inner_count += 1
        self.zero_grad(**(zero_kwargs or {}))  # also drops a partial accumulation window

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
        grads = [p.grad for group in self.optimizer.param_groups for p in group['params']
                 if p.grad is not None]
        if scale != 1.0 and grads:
            torch._foreach_mul_(grads, 1.0 / scale)
        self._clip_grad()
        if scale != 1.0 and grads:
            torch._foreach_mul_(grads, scale)

    def _clip_grad(self) -> None:
        if not self.sharded_gradients or self.clip_grad_kwargs.get('type') == 'value':
            return super()._clip_grad()
        kwargs = {k: v for k, v in self.clip_grad_kwargs.items() if k != 'type'}
        params = [p for group in self.optimizer.param_groups for p in group['params']
                  if p.requires_grad and p.grad is not None]
        norm = sharded_grad_norm(params, kwargs.get('norm_type', 2.0))
        torch.nn.utils.clip_grads_with_norm_(params, kwargs['max_norm'], norm,
                                             foreach=kwargs.get('foreach'))
        self.message_hub.update_scalar(f'train/{self.grad_name}', float(norm))


def sharded_grad_norm(params, norm_type: float = 2.0) -> torch.Tensor:
    """The norm of the gradient whose shards are the ``.grad`` of ``params`` on all ranks."""
    norm_type = float(norm_type)
    local = torch.nn.utils.get_total_norm([p.grad for p in params], norm_type)
    if not (dist.is_available() and dist.is_initialized()):
        return local
    if norm_type == float('inf'):
        dist.all_reduce(local, op=dist.ReduceOp.MAX)
        return local
    total = local.double()**norm_type
    dist.all_reduce(total)
    return (total**(1 / norm_type)).to(local.dtype)
