# Registries of simmim_mm first, then mmpretrain's and mmengine's.
default_scope = 'simmim_mm'
custom_imports = dict(imports=['simmim_mm'], allow_failed_imports=False)
# Checkpoints are written to a temporary file and renamed, outdated ones deleted only after,
# and the RNG states travel with them: a killed run resumes (--resume) as if never stopped.
# Scope-qualified: mmpretrain's own tools/train.py builds the runner from MMEngine's root
# registry before any default scope is set (simmim_mm/registry.py)
runner_type = 'simmim_mm.AtomicCheckpointRunner'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', interval=10, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # NaN / inf losses skip their update; 10 in a row stop the run with a checkpoint
    non_finite=dict(type='NonFiniteLossHook', max_consecutive=10),
    rng_state=dict(type='RngStateHook'),
    # a killed run loses at most `minutes` of training: resume_point.pth (replaced in place,
    # atomically) every 30 min, and at the end of the current iteration on SIGTERM, after
    # which the run stops cleanly (exit code 143); `--resume` continues from it mid-epoch
    resume_point=dict(type='ResumePointHook', minutes=30),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=None, deterministic=False)
