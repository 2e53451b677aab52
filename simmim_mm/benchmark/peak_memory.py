"""Peak memory of a training step: CUDA's allocator peak, or on a CPU the peak resident memory
that building the model and the first steps add to the fresh process each implementation runs
in (a process shares one heap, so two models in it could not be told apart)."""


def cuda_peak_bytes(train_step) -> int:
    """CUDA's allocator peak over one more step of ``train_step``."""
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


def resident_bytes() -> int:
    """This process's resident memory now (Linux /proc)."""
    return _status_bytes('VmRSS')


def peak_resident_bytes() -> int:
    """This process's peak resident memory so far (Linux /proc)."""
    return _status_bytes('VmHWM')
