"""Peak memory of one training step: CUDA's allocator peak, or on a CPU the peak resident
memory of a fresh process (a process shares one heap, so two models in it cannot be told
apart)."""
import multiprocessing
from typing import Optional


def cuda_peak_bytes(train_step) -> int:
    import torch
    torch.cuda.reset_peak_memory_stats()
    train_step.step()
    return torch.cuda.max_memory_allocated()


def _status_bytes(field: str) -> int:
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith(field + ':'):
                return int(line.split()[1]) * 1024
    raise OSError(f'/proc/self/status has no {field}')


def _measure_in_child(queue, config: str, cfg_options: Optional[dict], impl: str,
                      precision: str, batch_size: int) -> None:
    try:
        from mmengine.logging import MMLogger

        from simmim_mm.benchmark.train_step import TrainStep, load_config
        MMLogger.get_current_instance().setLevel('WARNING')
        cfg = load_config(config, cfg_options)
        resident = _status_bytes('VmRSS')
        train_step = TrainStep(cfg, impl, precision, batch_size, 'cpu')
        for _ in range(2):
            train_step.step()
        queue.put(_status_bytes('VmHWM') - resident)
    except BaseException as error:  # reported to the parent, not lost in the child
        queue.put(error)


def cpu_peak_bytes(config: str, cfg_options: Optional[dict], impl: str, precision: str,
                   batch_size: int) -> int:
    """Peak resident memory that building the model and two training steps add to a fresh
    process (Linux /proc)."""
    context = multiprocessing.get_context('spawn')
    queue = context.Queue()
    child = context.Process(target=_measure_in_child,
                            args=(queue, config, cfg_options, impl, precision, batch_size))
    child.start()
    result = queue.get()
    child.join()
    if isinstance(result, BaseException):
        raise result
    return result
