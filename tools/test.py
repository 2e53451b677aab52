"""Evaluate a checkpoint with a config's test set, in the config's own scope (simmim_mm,
mmpretrain, mmdet or mmseg).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR]
    python tools/test.py \
        configs/finetune/swin-base-w7_simmim-100e-pre_16xb128-coslr-100e_in1k-224px.py \
        work_dirs/ft/epoch_100.pth
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import simmim_mm  # noqa: F401  registers simmim_mm and lets torch.load read mmengine checkpoints
from simmim_mm.engine.cpu_distributed import prepare_cpu_distributed
from simmim_mm.engine.mmcv_ops_check import check_mmcv_ops
from simmim_mm.registry import RUNNERS


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Evaluate a checkpoint')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where the evaluation logs go')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. test_dataloader.batch_size=8')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        './work_dirs',
        osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    check_mmcv_ops(cfg)
    prepare_cpu_distributed(cfg)
    # MMEngine's convention: `runner_type` (default_runtime.py) picks a Runner subclass
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    return runner.test()


if __name__ == '__main__':
    main()
