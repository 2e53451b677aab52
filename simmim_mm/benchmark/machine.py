"""What a benchmark ran on, so that numbers from different machines are never compared
unknowingly."""
import platform
import sys
from typing import Dict


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
        'cpu': f'{cpu_model()}, {torch.get_num_threads()} threads, native bf16: '
               f'{"yes" if cpu_has_fast_bfloat16() else "no"}',
        'device': torch.cuda.get_device_name() if device.startswith('cuda') else 'cpu',
        'versions': f'python {sys.version.split()[0]}, torch {torch.__version__}, mmengine '
                    f'{mmengine.__version__}, mmpretrain {mmpretrain.__version__}, simmim_mm '
                    f'{simmim_mm.__version__}',
        'command': ' '.join(['python'] + sys.argv),
    }
