"""Train a SimMIM model with MMEngine's Runner.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]]
    python tools/train.py configs/pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py

On SIGTERM the run saves at the end of the current iteration and exits with code 143
(ResumePointHook); `--resume` continues from there, mid-epoch included.
"""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import simmim_mm  # noqa: F401  registers simmim_mm and lets torch.load read mmengine checkpoints
from simmim_mm.engine.cpu_distributed import prepare_cpu_distributed
from simmim_mm.engine.mmcv_ops_check import check_mmcv_ops
from simmim_mm.registry import RUNNERS


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a SimMIM model')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--work-dir', help='where logs and checkpoints go '
        '(default: work_dirs/<config name>)')
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        metavar='CHECKPOINT',
        help='resume from CHECKPOINT, or without a value from the latest '
        'checkpoint in the work dir')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. train_dataloader.batch_size=64')
    parser.add_argument(
        '--accumulation-steps',
        type=int,
        metavar='A',
        help='gradient accumulation as the official SimMIM: one optimizer '
        'step every A iterations (loss / A, gradient clipped after each '
        'iteration), lr scaled for a total batch of GPUs x batch x A')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torchrun sets LOCAL_RANK; the flag is kept for torch.distributed.launch users
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_config(args) -> Config:
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.accumulation_steps is not None:
        if args.accumulation_steps < 1:
            raise SystemExit('--accumulation-steps must be at least 1')
        # AtomicCheckpointRunner.scale_lr counts it in the total batch of auto_scale_lr
        cfg.optim_wrapper.accumulative_counts = args.accumulation_steps
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    return cfg


def main(argv=None):
    args = parse_args(argv)
    cfg = build_config(args)
    check_mmcv_ops(cfg)
    prepare_cpu_distributed(cfg)
    # MMEngine's convention: `runner_type` (default_runtime.py) picks a Runner subclass
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.train()
    return runner


if __name__ == '__main__':
    stopped_by = main().message_hub.get_info('stopped_by_signal')
    if stopped_by:  # saved and stopped by ResumePointHook: "terminated", as the signal would
        sys.exit(128 + stopped_by)
