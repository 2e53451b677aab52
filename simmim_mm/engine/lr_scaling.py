"""Linear lr scaling as the official SimMIM, gradient accumulation included, and its log line.

The official rule: ``lr = base_lr * total_batch / 512`` with total_batch = GPUs x batch per
GPU x accumulation steps (the official code multiplies base, warmup and min lr by the
accumulation steps on top of the batch / 512 scaling). Our configs hold the lr for their
reference total batch (``auto_scale_lr.base_batch_size``, 2048 for the pretraining configs)
and warmup / min lr as ratios of it, so one factor on the optimizer's lr scales all three:
``total_batch / base_batch_size``. MMEngine's ``Runner.scale_lr`` leaves the accumulation
steps (``optim_wrapper.accumulative_counts``) out of the total batch; :func:`scale_lr` counts
them, and logs the lrs it arrived at, since auto scaling is on by default in our configs.
"""
from typing import Optional

from mmengine.optim import OptimWrapperDict, _ParamScheduler  # exported by mmengine.optim
from torch.utils.data import DataLoader

from simmim_mm.compat.mmengine import accumulative_counts, train_dataloader_cfg


def _wrappers(optim_wrapper) -> list:
    return (list(optim_wrapper.values())
            if isinstance(optim_wrapper, OptimWrapperDict) else [optim_wrapper])


def accumulation_steps(optim_wrapper) -> int:
    """The gradient accumulation steps (``accumulative_counts``) of an optimizer wrapper."""
    return max(accumulative_counts(w) for w in _wrappers(optim_wrapper))


def _type_name(scheduler) -> str:
    kind = scheduler.get('type', '') if isinstance(scheduler, dict) else type(scheduler)
    return kind if isinstance(kind, str) else getattr(kind, '__name__', str(kind))


def _get(scheduler, key, default=None):
    if isinstance(scheduler, dict):
        return scheduler.get(key, default)
    return getattr(scheduler, key, default)


def schedule_lrs(lr: float, param_scheduler) -> dict:
    """The warmup start lr and the min lr that the schedulers (configs or built ones) give an
    optimizer lr of ``lr``: LinearLR's ``start_factor * lr``; cosine's ``eta_min_ratio * lr``
    (or ``eta_min``), MultiStepLR's ``lr * gamma ** len(milestones)``. None where unknown."""
    schedulers = param_scheduler if isinstance(
        param_scheduler, (list, tuple)) else ([] if param_scheduler is None else [param_scheduler])
    schedulers = [s for s in schedulers if _get(s, 'param_name', 'lr') == 'lr']
    warmup = min_lr = None
    for scheduler in schedulers:
        name = _type_name(scheduler)
        if name == 'LinearLR' and warmup is None:
            warmup = _get(scheduler, 'start_factor', 1.0 / 3) * lr
    last = schedulers[-1] if schedulers else None
    name = _type_name(last) if last is not None else ''
    if last is None or name == 'LinearLR':
        min_lr = lr if last is None else _get(last, 'end_factor', 1.0) * lr
    elif 'Cosine' in name or name == 'PolyLR':
        ratio = _get(last, 'eta_min_ratio')
        min_lr = ratio * lr if ratio is not None else _get(last, 'eta_min', 0.0)
    elif name == 'MultiStepLR':
        min_lr = lr * _get(last, 'gamma', 0.1)**len(_get(last, 'milestones', []))
    return dict(lr=lr, warmup_lr=lr if not schedulers else warmup, min_lr=min_lr)


def total_batch_size(world_size: int, batch_size: int, accumulation: int) -> int:
    return world_size * batch_size * accumulation


def _fmt(value: Optional[float]) -> str:
    return 'n/a' if value is None else f'{value:.6g}'


def scale_lr(runner, optim_wrapper, auto_scale_lr: Optional[dict] = None) -> dict:
    """MMEngine's ``Runner.scale_lr`` with the total batch GPUs x batch x accumulation steps;
    then logs lr, warmup start lr and min lr, scaled or not. Returns what it logged."""
    dataloader = train_dataloader_cfg(runner)
    batch = (
        dataloader.batch_size if isinstance(dataloader, DataLoader) else dataloader['batch_size'])
    steps = accumulation_steps(optim_wrapper)
    total = total_batch_size(runner.world_size, batch, steps)
    enabled = bool(auto_scale_lr and auto_scale_lr.get('enable', False))
    ratio = 1.0
    if enabled:
        assert 'base_batch_size' in auto_scale_lr, 'Lack of `base_batch_size` in `auto_scale_lr`.'
        schedulers = runner.param_schedulers
        built = (
            any(isinstance(s, _ParamScheduler) for s in schedulers)
            if isinstance(schedulers, list) else isinstance(schedulers, _ParamScheduler))
        if built:
            raise RuntimeError('`scale_lr` must run before the parameter schedulers are built')
        ratio = total / float(auto_scale_lr['base_batch_size'])
        for wrapper in _wrappers(optim_wrapper):
            for group in wrapper.optimizer.param_groups:
                group['lr'] = group['lr'] * ratio
    lr = max(group['lr'] for w in _wrappers(optim_wrapper) for group in w.optimizer.param_groups)
    schedulers = runner.param_schedulers
    if isinstance(schedulers, dict) and 'type' not in schedulers:
        schedulers = None  # one list per optimizer: not summarized
    lrs = schedule_lrs(lr, schedulers)
    how = (f'auto_scale_lr: the configured lr x {total}/{auto_scale_lr["base_batch_size"]}'
           if enabled else 'auto_scale_lr off: the configured lr')
    runner.logger.info(
        f'Learning rate: lr {_fmt(lrs["lr"])}, warmup start lr {_fmt(lrs["warmup_lr"])}, '
        f'min lr {_fmt(lrs["min_lr"])} for a total batch of {total} = {runner.world_size} '
        f'process{"es" if runner.world_size > 1 else ""} x {batch} per process x {steps} '
        f'accumulation step{"s" if steps > 1 else ""}; {how}')
    return dict(lrs, total_batch=total, ratio=ratio)
