"""What a benchmark ran on, so that numbers from different machines are never compared
unknowingly, and the peak FLOP rate that FLOP utilization is taken against."""
import platform
import sys
from typing import Dict, Optional, Tuple

# Datasheet dense peak (no structured sparsity), FLOP/s, by GPU name as torch reports it.
# 'fp32' is the plain FP32 rate: PyTorch does not use TF32 for matmuls unless told to.
# Looked up by substring, first match wins, so the more specific names come first.
TFLOPS = 1e12
GPU_PEAK_FLOPS: Tuple[Tuple[str, Dict[str, float]], ...] = (
    ('H100 PCIe', dict(fp32=51 * TFLOPS, bf16=756 * TFLOPS, fp16=756 * TFLOPS)),
    ('H100 NVL', dict(fp32=60 * TFLOPS, bf16=835 * TFLOPS, fp16=835 * TFLOPS)),
    ('H200 NVL', dict(fp32=60 * TFLOPS, bf16=835 * TFLOPS, fp16=835 * TFLOPS)),
    ('H100', dict(fp32=67 * TFLOPS, bf16=989 * TFLOPS, fp16=989 * TFLOPS)),  # SXM5
    ('H200', dict(fp32=67 * TFLOPS, bf16=989 * TFLOPS, fp16=989 * TFLOPS)),  # SXM, GH200
    ('A100', dict(fp32=19.5 * TFLOPS, bf16=312 * TFLOPS, fp16=312 * TFLOPS)),
)


def gpu_peak_flops(device_name: str, precision: str) -> Optional[float]:
    """The datasheet dense peak of this GPU at this precision, or None where unknown."""
    for key, peaks in GPU_PEAK_FLOPS:
        if key.lower() in device_name.lower():
            return peaks.get(precision)
    return None


def cpu_model() -> str:
    try:
        with open('/proc/cpuinfo') as info:
            for line in info:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_facts(device: str) -> Dict[str, str]:
    import mmengine
    import mmpretrain
    import torch

    import simmim_mm
    from simmim_mm.engine.optimizers.amp_optim_wrapper import cpu_has_fast_bfloat16
    return {
        'cpu':
        f'{cpu_model()}, {torch.get_num_threads()} threads, native bf16: '
        f'{"yes" if cpu_has_fast_bfloat16() else "no"}',
        'device':
        torch.cuda.get_device_name() if device.startswith('cuda') else 'cpu',
        'versions':
        f'python {sys.version.split()[0]}, torch {torch.__version__}, mmengine '
        f'{mmengine.__version__}, mmpretrain {mmpretrain.__version__}, simmim_mm '
        f'{simmim_mm.__version__}',
        'command':
        ' '.join(['python'] + sys.argv),
    }
