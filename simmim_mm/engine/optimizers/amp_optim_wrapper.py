"""Mixed precision on any device: MMEngine's AmpOptimWrapper, which refuses to build without
a GPU, with CPU autocast; and the configs' optimizer wrapper built on it."""
from contextlib import contextmanager

import torch
from mmengine.device import get_device
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper

from simmim_mm.compat.mmengine import init_amp_optim_wrapper_without_accelerator
from simmim_mm.registry import OPTIM_WRAPPERS

from .micro_batch_clip import MicroBatchClipMixin
from .non_finite_step import SkipNonFiniteStepMixin
from .sharded_grad_clip import clip_sharded_grad_norm_


def cpu_has_fast_bfloat16() -> bool:
    """Whether this CPU computes bf16 matmuls natively (AVX-512 BF16 or AMX). Without them
    torch falls back to a reference kernel ~100x slower than fp32 (measured on an AVX2 EPYC)."""
    cpu = torch.cpu
    checks = ('_is_avx512_bf16_supported', '_is_amx_tile_supported')
    return any(getattr(cpu, name, lambda: False)() for name in checks)


class CpuAutocastAmpOptimWrapper(AmpOptimWrapper):
    """MMEngine's AmpOptimWrapper, made to build and run anywhere (CPU autocast).

    On CUDA / NPU / MLU / MUSA it is AmpOptimWrapper unchanged: the official SimMIM's fp16
    autocast with dynamic loss scaling (or ``dtype`` if given). On a CPU with native bf16
    (AVX-512 BF16, AMX) it autocasts to bfloat16, the only dtype CPU autocast has, with no loss
    scaler (bf16 has fp32's range). On other CPUs it trains in fp32, since emulated bf16 is
    far slower. ``dtype='float32'`` turns autocast off everywhere; ``dtype='bfloat16'`` on a
    CPU forces it even where emulated.
    """

    def __init__(self, loss_scale='dynamic', dtype=None, use_fsdp=False, **kwargs):
        self.autocast_enabled = True
        on_cpu, fp32 = get_device() == 'cpu', dtype in ('float32', torch.float32)
        if not on_cpu and not fp32:
            super().__init__(loss_scale=loss_scale, dtype=dtype, use_fsdp=use_fsdp, **kwargs)
            return
        init_amp_optim_wrapper_without_accelerator(self, **kwargs)
        forced_bf16, native_bf16 = dtype in ('bfloat16', torch.bfloat16), cpu_has_fast_bfloat16()
        self.autocast_enabled = on_cpu and not fp32 and (forced_bf16 or native_bf16)
        self.cast_dtype = torch.bfloat16 if self.autocast_enabled else None
        if fp32:
            return
        if forced_bf16 and not native_bf16:
            print_log(
                'AnyDeviceAmpOptimWrapper: bfloat16 as asked, but this CPU emulates it '
                '(no AVX-512 BF16 / AMX): expect it to be far slower than float32',
                logger='current',
                level=30)
        elif not self.autocast_enabled:
            print_log(
                'AnyDeviceAmpOptimWrapper: this CPU has no native bfloat16 '
                '(AVX-512 BF16 / AMX), training in float32',
                logger='current')
        elif dtype not in (None, 'bfloat16', torch.bfloat16):
            print_log(f'AnyDeviceAmpOptimWrapper: CPU autocast has no {dtype}; using '
                      'bfloat16',
                      logger='current')

    @contextmanager
    def optim_context(self, model):
        context = (
            super().optim_context
            if self.autocast_enabled else super(AmpOptimWrapper, self).optim_context)
        with context(model):
            yield


@OPTIM_WRAPPERS.register_module()
class AnyDeviceAmpOptimWrapper(SkipNonFiniteStepMixin, MicroBatchClipMixin,
                               CpuAutocastAmpOptimWrapper):
    """The configs' optimizer wrapper: mixed precision on any device, so one config trains on
    a laptop, in CI and on a cluster (:class:`CpuAutocastAmpOptimWrapper`), plus

    - a step whose loss is NaN or infinite (on any rank) is skipped rather than written into
      the weights; ``nonfinite_streak`` / ``skipped_steps`` count them for NonFiniteLossHook
      (:class:`SkipNonFiniteStepMixin`);
    - gradient accumulation (``accumulative_counts=A > 1``, ``tools/train.py
      --accumulation-steps A``) with ``clip_grad`` clips after every micro-batch as the
      official SimMIM code (:class:`MicroBatchClipMixin`);
    - ``use_fsdp=True`` (FSDPStrategy): gradient norm clipping uses the norm over all ranks'
      shards, as one process would (``sharded_grad_clip``).
    """

    def __init__(self, loss_scale='dynamic', dtype=None, use_fsdp=False, **kwargs):
        super().__init__(loss_scale=loss_scale, dtype=dtype, use_fsdp=use_fsdp, **kwargs)
        self.sharded_gradients = use_fsdp
        if use_fsdp and self.clip_grad_kwargs and self.grad_name == 'grad_norm':
            self.clip_func = clip_sharded_grad_norm_
