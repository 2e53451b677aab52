r"""Benchmark SimMIM training against mmpretrain's, on this machine, each in its own process.

Training step (images/s, peak memory, FLOP utilization): each implementation runs in fresh
processes of its own, as in a training run, one process at a time: --rounds rounds of one
process per implementation, the order alternating, each process timing --trials steps after
warm-up. A plain `model.train_step` loop over the same model and batch, in yet another fresh
process, checks the numbers: the report flags an implementation whose rate differs from its
loop's by more than --tolerance.
    python tools/benchmark.py train \
        configs/pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py \
        --batch-size 4 --compare mmpretrain
    python tools/benchmark.py train \
        configs/pretrain/simmim_vit-base-p16_16xb128-amp-step-800e_in1k-224px.py \
        --device cuda --precision bf16 --out vit.json

Data pipeline per worker (one thread: images/s per core, ms per stage) on a folder of JPEGs,
generated from the bundled photos if it does not exist yet; a config that resizes with
TorchRandomResizedCrop is also measured with Pillow's resize, the pipeline it replaced; with
--shards, both again on the same JPEGs read from WebDataset shards:
    python tools/benchmark.py data \
        configs/pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py \
        --folder /tmp/jpegs --shards /tmp/jpeg-shards --compare mmpretrain

What compression buys: a distillation config's teacher and student encoders side by side,
parameters, forward FLOPs and inference images/s at the fine-tune size (224 px, unmasked,
eval mode, no_grad), each encoder timed in fresh processes of its own as `train` does:
    python tools/benchmark.py compress \
        configs/distill/tinymim_vit-base-p16-to-vit-small-p16_32xb128-amp-300e_in1k-224px.py \
        --batch-size 8 --precision bf16

Each prints a Markdown report (the machine, versions and command included) and, with
--out, also writes it as JSON. Results: docs/en/useful_tools/benchmark.md.
"""
import argparse
import json
import logging
import sys

from mmengine.config import DictAction
from mmengine.logging import MMLogger

import simmim_mm  # noqa: F401  registers simmim_mm
from simmim_mm.benchmark import report
from simmim_mm.checkpoint.atomic import atomic_path


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    commands = parser.add_subparsers(dest='command', required=True)
    for name, summary in (('train', 'training-step throughput, memory, FLOP utilization'),
                          ('data', 'data pipeline throughput per worker')):
        command = commands.add_parser(name, help=summary)
        command.add_argument('config')
        command.add_argument(
            '--compare',
            choices=['mmpretrain'],
            help="also measure mmpretrain 1.2.0's SimMIM, alternating with ours")
        command.add_argument(
            '--trials',
            type=int,
            default=5,
            help='train: timed steps per process; data: passes over the folder')
        command.add_argument('--cfg-options', nargs='+', action=DictAction)
        command.add_argument('--out', help='also write the results as JSON here')
    compress = commands.add_parser(
        'compress',
        help="a distillation config's teacher and student: parameters, FLOPs, "
        'inference images/s')
    compress.add_argument(
        'config', help='a distillation config (model.teacher, '
        'model.backbone)')
    compress.add_argument(
        '--image-size',
        type=int,
        default=224,
        help='inference image size (default 224, the fine-tune size)')
    compress.add_argument('--trials', type=int, default=5, help='timed forwards per process')
    compress.add_argument(
        '--threads',
        type=int,
        help="torch threads per process (default torch's); 1 makes the CPU "
        'time per image a measure of the work on a shared machine')
    compress.add_argument('--cfg-options', nargs='+', action=DictAction)
    compress.add_argument('--out', help='also write the results as JSON here')
    train = commands.choices['train']
    for command in (train, compress):
        command.add_argument('--batch-size', type=int, default=4, help='images per step')
        command.add_argument(
            '--device',
            choices=['cpu', 'cuda'],
            help='default: cuda where there is a GPU, else cpu')
        command.add_argument(
            '--rounds',
            type=int,
            default=3,
            help='fresh processes per model, alternating (default 3)')
        command.add_argument(
            '--warmup', type=int, default=2, help='untimed steps per process (at least 1)')
        command.add_argument('--no-memory', action='store_true', help='skip peak memory')
    train.add_argument('--precision', choices=['fp32', 'bf16', 'fp16'], default='fp32')
    compress.add_argument(
        '--precision',
        choices=['fp32', 'bf16', 'fp16'],
        default='fp32',
        help='fp32, or autocast to bf16 / fp16 (fp16: GPU only)')
    train.add_argument(
        '--no-check',
        action='store_true',
        help='skip the standalone train_step loop that checks the numbers')
    train.add_argument(
        '--tolerance',
        type=float,
        default=0.2,
        help='flag an implementation whose images/s differs from its '
        'standalone loop by more than this fraction (default 0.2)')
    data = commands.choices['data']
    data.add_argument(
        '--folder',
        required=True,
        help='folder of JPEGs, searched recursively; a missing or empty one is '
        'filled with an ImageNet-like set made from the bundled photos')
    data.add_argument(
        '--images', type=int, default=500, help='how many to generate when the folder is missing')
    data.add_argument(
        '--shards',
        metavar='DIR',
        help="also read the folder's JPEGs from shards in DIR (written there "
        'first if it has no index.json)')
    return parser.parse_args(argv)


def train(args) -> dict:
    return report.train_report(
        args.config,
        args.cfg_options,
        batch_size=args.batch_size,
        device=args.device,
        precision=args.precision,
        warmup=args.warmup,
        trials=args.trials,
        rounds=args.rounds,
        memory=not args.no_memory,
        compare=args.compare,
        check=not args.no_check,
        tolerance=args.tolerance)


def compress(args) -> dict:
    return report.compress_report(
        args.config,
        args.cfg_options,
        batch_size=args.batch_size,
        device=args.device,
        precision=args.precision,
        image_size=args.image_size,
        warmup=args.warmup,
        trials=args.trials,
        rounds=args.rounds,
        memory=not args.no_memory,
        threads=args.threads)


def data(args) -> dict:
    from simmim_mm.benchmark import data_pipeline
    from simmim_mm.benchmark.train_step import load_config
    cfg = load_config(args.config, args.cfg_options)
    try:
        samples = data_pipeline.folder_samples(args.folder, args.images)
    except ValueError as error:
        sys.exit(str(error))
    result = data_pipeline.data_report(cfg, samples, args.trials, args.compare, args.shards)
    result.update(config=args.config, folder=args.folder, shards=args.shards)
    return result


def main(argv=None):
    args = parse_args(argv)
    if args.trials < 1:
        sys.exit('--trials must be at least 1')
    timed = args.command in ('train', 'compress')
    if timed and args.warmup < 1:
        sys.exit('--warmup must be at least 1 (the first step allocates and is not timed)')
    if timed and args.rounds < 1:
        sys.exit('--rounds must be at least 1')
    if timed:
        import torch
        gpu = torch.cuda.is_available()
        args.device = args.device or ('cuda' if gpu else 'cpu')
        if args.device == 'cpu' and gpu:  # MMEngine would still run AMP for the GPU
            sys.exit('--device cpu on a machine with a GPU: hide it with CUDA_VISIBLE_DEVICES=')
        if args.device == 'cuda' and not gpu:
            sys.exit('--device cuda: torch sees no GPU here')
    # MMEngine logs every parameter's optimizer options at INFO; the report is what matters
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        result = dict(train=train, compress=compress, data=data)[args.command](args)
    finally:
        logger.setLevel(level)
    print(report.markdown(result))
    if args.out:
        with atomic_path(args.out) as tmp, open(tmp, 'w') as file:
            json.dump(result, file, indent=1)
    return result


if __name__ == '__main__':
    main()
