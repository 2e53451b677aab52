import os.path as osp

from mmengine.hooks import Hook

from simmim_mm.registry import HOOKS


class NonFiniteLossError(RuntimeError):
    pass


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stops a run whose loss stays NaN / infinite, after saving the (still finite) weights.

    AnyDeviceAmpOptimWrapper skips the update of each non-finite step, so one bad batch costs
    one step. After ``max_consecutive`` skipped steps in a row the run is not going to recover:
    this hook saves a checkpoint and raises with the iteration, the last losses and what to
    change. Skipped steps are logged as ``train/skipped_steps``.
    """

    priority = 'BELOW_NORMAL'

    def __init__(self, max_consecutive: int = 10):
        if max_consecutive < 1:
            raise ValueError(f'max_consecutive must be >= 1, got {max_consecutive}')
        self.max_consecutive = max_consecutive

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        wrapper = runner.optim_wrapper
        streak = getattr(wrapper, 'nonfinite_streak', 0)
        runner.message_hub.update_scalar('train/skipped_steps',
                                         getattr(wrapper, 'skipped_steps', 0))
        if streak == 0:
            return
        runner.logger.warning(f'Iteration {runner.iter + 1}: non-finite loss, update skipped '
                              f'({streak} in a row)')
        if streak < self.max_consecutive:
            return
        filename = f'nonfinite_stop_iter_{runner.iter + 1}.pth'
        runner.save_checkpoint(
            runner.work_dir, filename, save_optimizer=True, save_param_scheduler=True)
        history = runner.message_hub.log_scalars.get('train/loss')
        losses = history.data[0][-10:].tolist() if history is not None else []
        raise NonFiniteLossError(
            f'{streak} consecutive non-finite losses up to iteration {runner.iter + 1} '
            f'(last logged losses: {losses}). The weights, untouched by those steps, are in '
            f'{osp.join(runner.work_dir, filename)}. Resume from it with a lower learning '
            'rate, or with bf16 instead of fp16 (optim_wrapper.dtype="bfloat16").')
