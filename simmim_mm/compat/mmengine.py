"""Workarounds for MMEngine 0.10.7 behaviour, one section per concern.

Each names the behaviour it works around (and the upstream issue where there is one);
tests/test_compat/test_mmengine.py holds the tests that fail once MMEngine behaves, so that
the workaround can go.
"""
import copy
import os.path as osp
import warnings

import torch
from mmengine.config.utils import MODULE2PACKAGE
from mmengine.device import get_device
from mmengine.dist import is_main_process
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper

# ---- registry and config resolution


def register_config_package(package: str, module: str) -> None:
    """Let ``Config.fromfile`` resolve ``<package>::<folder>/<config>.py``.

    MMEngine 0.10.7 resolves such a base only for the packages of its ``MODULE2PACKAGE``
    table ("mmengine does not support to load <package> config", open-mmlab/mmengine#1410),
    and finds a distribution's folder as ``<dist location>/<name>``, which is site-packages
    for an editable install (not the checkout). Naming ``module`` (a module at the package's
    top level) instead of the distribution sends it to its other route,
    ``importlib.util.find_spec``, whose origin is the real package folder for wheel and
    editable installs alike.
    """
    MODULE2PACKAGE.setdefault(package, module)


def quiet_model_index_warnings() -> None:
    """Drop MMEngine's warning for each model-index entry without a ``Config``.

    MMEngine 0.10.7 scans the package's model index every time it resolves a
    ``<package>::`` config and warns "There is not `Config` define in ..." for each
    checkpoint that fits no config (configs/metafile.yml says why for each): no news to a
    user resolving a config. Only that message from ``mmengine.config.utils`` is ignored.
    """
    warnings.filterwarnings(
        'ignore',
        message='There is not `Config` define in',
        category=UserWarning,
        module='mmengine.config.utils')


def register_in_other_scopes(cls: type, registry: str, packages=('mmdet', 'mmseg')) -> None:
    """Register ``cls`` in ``<package>.registry.<registry>`` too, for each installed package.

    MMEngine 0.10.7's ``Registry.get`` resolves a scoped name (``simmim_mm.X``) from another
    scope only among the root registry's direct children; simmim_mm's registries hang below
    mmpretrain's, so an mmdet or mmseg config cannot name ``cls`` at all where no ``_scope_``
    can be given (``optim_wrapper.constructor`` is a bare type name). Registered in their
    scopes, their configs name it plainly.
    """
    import importlib
    for package in packages:
        try:
            module = importlib.import_module(f'{package}.registry')
        except ImportError:
            continue
        getattr(module, registry).register_module(module=cls)


# ---- runner, loops and optimizer wrappers
# (their expiry tests: tests/test_compat/test_mmengine_engine.py)


def compile_model_forward(runner, target: str) -> None:
    """``Runner._maybe_compile`` that compiles the model's forward, not ``target``.

    MMEngine 0.10.7 compiles the whole ``model.train_step`` (``cfg.compile``); dynamo fails
    to trace the optimizer wrapper inside it (torch 2.14; the same failure through
    ``optim_wrapper.optim_context``: open-mmlab/mmdetection#11398, open). The forward
    (encoder, decoder and loss) is where the time goes, and compiles. ``compile=True`` or a
    dict of ``torch.compile`` options.
    """
    options = runner.cfg.get('compile')
    if not options:
        return
    options = {} if options is True else dict(options)
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    model.forward = torch.compile(model.forward, **options)
    runner.logger.info('The model forward is compiled: the first iterations are slow.')


def drop_collate_fn_scope(dataloader):
    """The dataloader config without the ``_scope_`` key of its ``collate_fn``.

    MMEngine 0.10.7 tags every dict with a ``type`` in a config inherited as
    ``simmim_mm::`` / ``mmpretrain::`` with ``_scope_``, and ``Runner.build_dataloader``
    passes all keys but ``type`` to the collate function: ``default_collate(_scope_=...)``
    fails on the first batch (the same failure: open-mmlab/mmyolo#886). Functions have no
    scope. The config itself is left as it was.
    """
    collate = dataloader.get('collate_fn') if isinstance(dataloader, dict) else None
    if not (isinstance(collate, dict) and '_scope_' in collate):
        return dataloader
    dataloader = copy.copy(dataloader)
    dataloader['collate_fn'] = {k: v for k, v in collate.items() if k != '_scope_'}
    return dataloader


def train_dataloader_cfg(runner):
    """The train dataloader as given to the Runner (a config dict or a DataLoader).

    MMEngine 0.10.7 keeps it in the private ``Runner._train_dataloader`` (its own
    ``scale_lr`` reads it there); the public ``Runner.train_dataloader`` builds the train
    loop instead.
    """
    return runner._train_dataloader


def diff_rank_seed(runner) -> bool:
    """Whether the run seeds each rank differently (``randomness.diff_rank_seed``).

    MMEngine 0.10.7 keeps the randomness config only in the private
    ``Runner._randomness_cfg``; ``runner.seed`` already includes the rank's offset.
    """
    return bool(runner._randomness_cfg.get('diff_rank_seed', False))


# sha256 of ``inspect.getsource(CheckpointHook._save_checkpoint_with_step)``, MMEngine 0.10.7
SAVE_CHECKPOINT_WITH_STEP_SHA256 = (
    'cdbc1b54c7c88d9525ab025a9d51a3d3be6e6e36396c0f1151ecf51281fd3482')


def save_checkpoint_with_step(hook, runner, step, meta) -> None:
    """``CheckpointHook._save_checkpoint_with_step`` of MMEngine 0.10.7, reordered.

    MMEngine deletes the oldest checkpoint (``max_keep_ckpts``) before it writes the new
    one and rewrites ``last_checkpoint`` in place (``open(..., 'w')``): a run killed while
    saving can be left without a complete checkpoint, or with an empty
    ``last_checkpoint``. Here the outdated checkpoint is deleted after the new one is
    written, and ``last_checkpoint`` is replaced atomically; the rest (``keep_ckpt_ids``,
    ``last_ckpt``, the save arguments) is MMEngine's. AtomicCheckpointHook uses it as its
    ``_save_checkpoint_with_step``; an upstream change of that method fails its test.
    """
    outdated = []
    if hook.max_keep_ckpts > 0 and not (hook.keep_ckpt_ids and hook.keep_ckpt_ids[-1] == step):
        if len(hook.keep_ckpt_ids) == hook.max_keep_ckpts:
            outdated.append(
                hook.file_backend.join_path(hook.out_dir,
                                            hook.filename_tmpl.format(
                                                hook.keep_ckpt_ids.popleft())))
        hook.keep_ckpt_ids.append(step)
        runner.message_hub.update_info('keep_ckpt_ids', list(hook.keep_ckpt_ids))

    ckpt_filename = hook.filename_tmpl.format(step)
    hook.last_ckpt = hook.file_backend.join_path(hook.out_dir, ckpt_filename)
    runner.message_hub.update_info('last_ckpt', hook.last_ckpt)
    runner.save_checkpoint(
        hook.out_dir,
        ckpt_filename,
        hook.file_client_args,
        save_optimizer=hook.save_optimizer,
        save_param_scheduler=hook.save_param_scheduler,
        meta=meta,
        by_epoch=hook.by_epoch,
        backend_args=hook.backend_args,
        **hook.args)
    if not is_main_process():
        return

    # imported here: simmim_mm imports this module before its own (see compat/__init__.py)
    from simmim_mm.checkpoint.atomic import atomic_path
    with atomic_path(osp.join(runner.work_dir, 'last_checkpoint')) as tmp:
        with open(tmp, 'w') as f:
            f.write(hook.last_ckpt)
    for path in outdated:
        if hook.file_backend.isfile(path):
            hook.file_backend.remove(path)
        elif hook.file_backend.isdir(path):  # DeepSpeed saves folders
            hook.file_backend.rmtree(path)


# sha256 of ``inspect.getsource(EpochBasedTrainLoop.run)``, MMEngine 0.10.7
EPOCH_LOOP_RUN_SHA256 = '51ae20508b4d459fb39f6d8fb1f2bd07ca6ed4b201926abf10cb991f1e4f1da8'


def run_epochs(loop):
    """``EpochBasedTrainLoop.run`` of MMEngine 0.10.7 that ends at an unfinished epoch.

    MMEngine's loop goes on to ``_decide_current_val_interval`` and validation after every
    ``run_epoch``, also one that ``stop_training`` ended mid-epoch: it would validate (and
    log as finished) an epoch that is not. One change: an epoch that ``run_epoch`` left
    unfinished (the epoch count did not advance) ends the loop. An upstream change of
    ``run`` fails its test.
    """
    loop.runner.call_hook('before_train')
    while loop._epoch < loop._max_epochs and not loop.stop_training:
        epoch = loop._epoch
        loop.run_epoch()
        if loop._epoch == epoch:
            break  # stopped mid-epoch: no validation of an unfinished epoch
        loop._decide_current_val_interval()
        if (loop.runner.val_loop is not None and loop._epoch >= loop.val_begin
                and (loop._epoch % loop.val_interval == 0 or loop._epoch == loop._max_epochs)):
            loop.runner.val_loop.run()
    loop.runner.call_hook('after_train')
    return loop.runner.model


def accumulative_counts(optim_wrapper) -> int:
    """An OptimWrapper's ``accumulative_counts`` (gradient accumulation steps); 1 for a
    wrapper that has none (DeepSpeed's).

    MMEngine 0.10.7 keeps it only in the private ``OptimWrapper._accumulative_counts``.
    """
    return getattr(optim_wrapper, '_accumulative_counts', 1)


def count_skipped_step(optim_wrapper) -> None:
    """Count a micro-batch whose update was skipped (a non-finite loss) as done.

    MMEngine 0.10.7 counts micro-batches (``inner_count``, which decides when an
    accumulation window steps) only in ``OptimWrapper.backward``; the public
    ``inner_count`` has no setter. A skipped micro-batch must still count, or every later
    window would step one micro-batch late.
    """
    optim_wrapper._inner_count += 1


def init_amp_optim_wrapper_without_accelerator(optim_wrapper, **kwargs) -> None:
    """What ``AmpOptimWrapper.__init__`` sets up, with a loss scaler that passes through.

    MMEngine 0.10.7's ``AmpOptimWrapper.__init__`` asserts a GPU, NPU, MLU or MUSA device
    ("``AmpOptimizerWrapper`` is only available training on gpu, npu, mlu or musa"), though
    torch autocasts on the CPU too (bfloat16). ``kwargs``: OptimWrapper's arguments.
    """
    OptimWrapper.__init__(optim_wrapper, **kwargs)
    optim_wrapper._scale_update_param = None
    optim_wrapper.loss_scaler = torch.amp.GradScaler(get_device(), enabled=False)
