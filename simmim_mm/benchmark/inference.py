"""What compression buys at deployment: the parameters, forward FLOPs and inference speed of
a distillation config's teacher and student encoders, each timed in fresh processes of its
own (simmim_mm.benchmark.processes), as tools/benchmark.py's training step is.

Both encoders are timed as they are fine-tuned and deployed: at the fine-tune image size
(224 px), unmasked, in eval mode under ``torch.no_grad``. The weights are random: speed and
FLOPs do not depend on them, and no teacher checkpoint is needed.
"""
import copy
import os
import time
from dataclasses import dataclass
from typing import Dict, Optional

import torch
from torch import Tensor, nn

# a distillation config's field for each role
ENCODER_FIELDS = {'teacher': 'teacher', 'student': 'backbone'}


@dataclass(frozen=True)
class EncoderSpec:
    """What a process needs to build and time one encoder of a distillation config."""
    config: str
    cfg_options: Optional[dict]
    role: str  # 'teacher' or 'student'
    precision: str
    batch_size: int
    device: str
    image_size: int = 224
    threads: Optional[int] = None  # torch threads in the process (default: torch's)

    @property
    def impl(self) -> str:
        """The name processes.in_fresh_process reports this process's errors under."""
        return self.role


def _set_swin_window(stage_cfgs, window: int):
    """Every block config under ``stage_cfgs`` (a dict or a list per stage, each with a dict
    or a list per block) with ``window_size=window``."""
    stages = stage_cfgs if isinstance(stage_cfgs, (list, tuple)) else [stage_cfgs]
    out = []
    for stage in stages:
        stage = dict(stage)
        blocks = stage.get('block_cfgs', {})
        if isinstance(blocks, (list, tuple)):
            stage['block_cfgs'] = [dict(block, window_size=window) for block in blocks]
        else:
            stage['block_cfgs'] = dict(blocks, window_size=window)
        out.append(stage)
    return out if isinstance(stage_cfgs, (list, tuple)) else out[0]


def deployed_encoder_cfg(cfg, role: str, image_size: int) -> dict:
    """The ``role`` encoder of a distillation config as it is fine-tuned at ``image_size``:
    - Swin: windows of the final map (image_size / 32: 7 at 224 px), as the fine-tune configs
      (window 7) have it, so that every stage tiles;
    - ViT: the student's distilled-only head override (TinyMIM's 12-head last block) dropped:
      it shares the model's relative position table, so it runs with the model's own heads
      when fine-tuned, as in TinyMIM; its weights and parameter count do not change.
    """
    encoder = copy.deepcopy(cfg.model[ENCODER_FIELDS[role]])
    encoder = encoder.to_dict() if hasattr(encoder, 'to_dict') else dict(encoder)
    encoder['img_size'] = image_size
    encoder.pop('init_cfg', None)
    if 'Swin' in encoder['type']:
        encoder['stage_cfgs'] = _set_swin_window(encoder.get('stage_cfgs', {}), image_size // 32)
    elif encoder.get('layer_cfgs'):
        layer_cfgs = encoder['layer_cfgs']
        layer_cfgs = layer_cfgs if isinstance(layer_cfgs, (list, tuple)) else [layer_cfgs]
        encoder['layer_cfgs'] = [{
            k: v
            for k, v in layer.items() if k != 'num_heads'
        } for layer in layer_cfgs]
    return encoder


def build_encoder(spec: EncoderSpec) -> nn.Module:
    """The spec's encoder in eval mode on its device, randomly initialised."""
    from mmengine.registry import DefaultScope

    from simmim_mm.benchmark.train_step import load_config
    from simmim_mm.models.algorithms.simmim import check_windows_tile
    cfg = load_config(spec.config, spec.cfg_options)
    with DefaultScope.overwrite_default_scope('simmim_mm'):
        from simmim_mm.registry import MODELS
        encoder = MODELS.build(deployed_encoder_cfg(cfg, spec.role, spec.image_size))
    check_windows_tile(encoder)
    encoder.to(spec.device)
    encoder.eval()  # mmpretrain backbones' train() returns None: no chaining
    return encoder


def architecture(cfg, role: str) -> str:
    """A short name for the report: the encoder type and its arch."""
    encoder = cfg.model[ENCODER_FIELDS[role]]
    arch = encoder.get('arch', 'default')
    if not isinstance(arch, str):
        arch = ', '.join(f'{k}={v}' for k, v in dict(arch).items())
    return f"{encoder['type']} ({arch})"


def count_parameters(module: nn.Module) -> int:
    """Every parameter's elements, trainable or not (a deployed model carries them all)."""
    return sum(parameter.numel() for parameter in module.parameters())


def forward_flops(encoder: nn.Module, images: Tensor) -> int:
    """Matmul / conv / attention FLOPs (2 per multiply-add, torch.utils.flop_counter, as the
    train benchmark counts them) of one unmasked forward of ``images``, per image."""
    from torch.utils.flop_counter import FlopCounterMode
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        encoder(images, None)
    return counter.get_total_flops() // images.shape[0]


def _autocast(spec: EncoderSpec):
    from simmim_mm.benchmark.train_step import PRECISIONS
    dtype = getattr(torch, PRECISIONS[spec.precision])
    return torch.autocast(
        device_type=spec.device.split(':')[0], dtype=dtype, enabled=spec.precision != 'fp32')


def _cuda_peak_bytes(encoder: nn.Module, images: Tensor) -> int:
    """CUDA's allocator peak over one more forward."""
    torch.cuda.reset_peak_memory_stats()
    encoder(images, None)
    return torch.cuda.max_memory_allocated()


def timed_forward(spec: EncoderSpec, warmup: int, steps: int, memory: bool, flops: bool) -> dict:
    """In this process: build the encoder, run ``warmup`` untimed forwards of a batch, time
    ``steps`` forwards one by one; with ``memory`` the peak memory of building and warming up,
    with ``flops`` the parameters and the forward FLOPs per image. The signature
    processes.measure_in_processes expects of its ``target``."""
    from simmim_mm.benchmark.peak_memory import peak_resident_bytes, resident_bytes
    from simmim_mm.benchmark.train_step import check_precision, synchronize
    check_precision(spec.device, spec.precision)
    if spec.threads:
        torch.set_num_threads(spec.threads)
    before = resident_bytes()
    encoder = build_encoder(spec)
    images = torch.randn(
        spec.batch_size,
        3,
        spec.image_size,
        spec.image_size,
        generator=torch.Generator().manual_seed(0)).to(spec.device)
    with torch.no_grad(), _autocast(spec):
        for _ in range(warmup):
            encoder(images, None)
        synchronize(spec.device)
        result = dict(pid=os.getpid(), threads=torch.get_num_threads())
        if memory:
            result['peak_memory_bytes'] = (
                _cuda_peak_bytes(encoder, images)
                if spec.device.startswith('cuda') else peak_resident_bytes() - before)
        seconds, cpu_seconds = [], []
        for _ in range(steps):
            start, cpu_start = time.perf_counter(), time.process_time()
            encoder(images, None)
            synchronize(spec.device)
            seconds.append(time.perf_counter() - start)
            cpu_seconds.append(time.process_time() - cpu_start)
    result['seconds_per_step'] = seconds
    # CPU time of this process (all its threads): on a shared CPU, what the forward costs
    # whatever else runs; with one thread it is the work itself, with more it includes the
    # threads' waits
    result['cpu_seconds_per_step'] = cpu_seconds
    if flops:
        result['parameters'] = count_parameters(encoder)
        result['flops_per_image'] = forward_flops(encoder, images[:1])
    return result


def measure_teacher_student(config: str,
                            cfg_options: Optional[dict],
                            precision: str,
                            batch_size: int,
                            device: str,
                            image_size: int,
                            warmup: int,
                            steps: int,
                            rounds: int,
                            memory: bool = True,
                            threads: Optional[int] = None) -> Dict[str, dict]:
    """Teacher and student, ``rounds`` fresh processes each, alternating (ABBA): {'teacher':
    ..., 'student': ...} as processes.measure_in_processes returns, with 'parameters' and
    'flops_per_image'; each process's 'cpu_seconds_per_step' sits in its 'processes' entry."""
    from simmim_mm.benchmark.processes import measure_in_processes
    specs = {
        role: EncoderSpec(config, cfg_options, role, precision, batch_size, device, image_size,
                          threads)
        for role in ENCODER_FIELDS
    }
    return measure_in_processes(specs, warmup, steps, rounds, memory, target=timed_forward)
