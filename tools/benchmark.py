"""Benchmark SimMIM training against mmpretrain's, on this machine, in one process.

Training step (images/s, peak memory, FLOP utilization), trials alternating between
implementations after warm-up:
    python tools/benchmark.py train configs/pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py --batch-size 4 --compare mmpretrain
    python tools/benchmark.py train configs/pretrain/simmim_vit-base-p16_16xb128-amp-step-800e_in1k-224px.py --device cuda --precision bf16

Data pipeline per worker (one thread) on a folder of JPEGs, generated from the bundled photos
if it does not exist yet:
    python tools/benchmark.py data configs/pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py --folder /tmp/jpegs --compare mmpretrain

Each prints a Markdown report (the machine, versions and command included) and, with
--out, also writes it as JSON. Results: docs/benchmarks.md.
"""
import argparse
import glob
import json
import logging
import os
import os.path as osp
import sys
from statistics import median

from mmengine.config import DictAction
from mmengine.logging import MMLogger

import simmim_mm  # noqa: F401  registers simmim_mm
from simmim_mm.benchmark.machine import machine_facts
from simmim_mm.checkpoint.atomic import atomic_path

IMAGENET_TRAIN_IMAGES = 1281167


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    commands = parser.add_subparsers(dest='command', required=True)
    for name, summary in (('train', 'training-step throughput, memory, FLOP utilization'),
                          ('data', 'data pipeline throughput per worker')):
        command = commands.add_parser(name, help=summary)
        command.add_argument('config')
        command.add_argument('--compare', choices=['mmpretrain'],
                             help="also measure mmpretrain 1.2.0's SimMIM, alternating trials")
        command.add_argument('--trials', type=int, default=5)
        command.add_argument('--cfg-options', nargs='+', action=DictAction)
        command.add_argument('--out', help='also write the results as JSON here')
    train = commands.choices['train']
    train.add_argument('--batch-size', type=int, default=4, help='images per step')
    train.add_argument('--precision', choices=['fp32', 'bf16', 'fp16'], default='fp32')
    train.add_argument('--device', choices=['cpu', 'cuda'],
                       help='default: cuda where there is a GPU, else cpu')
    train.add_argument('--warmup', type=int, default=2, help='untimed steps per model')
    train.add_argument('--no-memory', action='store_true', help='skip peak memory')
    data = commands.choices['data']
    data.add_argument('--folder', required=True,
                      help='folder of JPEGs, searched recursively; a missing or empty one is '
                      'filled with an ImageNet-like set made from the bundled photos')
    data.add_argument('--images', type=int, default=500,
                      help='how many to generate when the folder is missing')
    return parser.parse_args(argv)


def train_report(args) -> dict:
    from simmim_mm.benchmark.peak_memory import cpu_peak_bytes, cuda_peak_bytes
    from simmim_mm.benchmark.train_step import (TrainStep, interleaved_seconds,
                                                load_config, matmul_rate)
    cfg = load_config(args.config, args.cfg_options)
    impls = ['simmim_mm'] + ([args.compare] if args.compare else [])
    steps = {impl: TrainStep(cfg, impl, args.precision, args.batch_size, args.device)
             for impl in impls}
    flops = {impl: step.count_flops() for impl, step in steps.items()}
    seconds = interleaved_seconds({impl: step.step for impl, step in steps.items()},
                                  args.warmup, args.trials)
    ceiling = matmul_rate(args.device, args.precision)
    results = {}
    for impl, step in steps.items():
        images_per_s = args.batch_size / median(seconds[impl])
        results[impl] = dict(images_per_s=images_per_s, seconds_per_step=seconds[impl],
                             train_flops_per_image=flops[impl],
                             flop_utilization=flops[impl] * images_per_s / ceiling)
    if not args.no_memory:
        for impl, step in steps.items():
            results[impl]['peak_memory_bytes'] = (
                cuda_peak_bytes(step) if args.device.startswith('cuda') else
                cpu_peak_bytes(args.config, args.cfg_options, impl, args.precision,
                               args.batch_size))
    report = dict(kind='train', config=args.config, batch_size=args.batch_size,
                  precision=args.precision, matmul_flops_per_s=ceiling,
                  machine=machine_facts(args.device), results=results)
    if args.compare:
        report['speedup'] = (results['simmim_mm']['images_per_s'] /
                             results[args.compare]['images_per_s'])
    return report


def mmpretrain_pipeline(cfg) -> list:
    """mmpretrain's SimMIM pipeline at the input and patch sizes of the config under test."""
    from simmim_mm.benchmark.train_step import mask_generator_cfg, mmpretrain_recipe
    mask = mask_generator_cfg(cfg)
    pipeline = mmpretrain_recipe().train_pipeline
    for step in pipeline:
        if step['type'] == 'RandomResizedCrop':
            step['scale'] = mask['input_size']
        elif step['type'] == 'SimMIMMaskGenerator':
            step.update(input_size=mask['input_size'],
                        model_patch_size=mask['model_patch_size'])
    return pipeline


def data_report(args) -> dict:
    from simmim_mm.benchmark.data_pipeline import pipeline_throughput
    from simmim_mm.benchmark.jpeg_set import generate_jpeg_set
    from simmim_mm.benchmark.train_step import load_config
    cfg = load_config(args.config, args.cfg_options)
    paths = sorted(path for path in glob.glob(osp.join(args.folder, '**', '*'), recursive=True)
                   if path.lower().endswith(('.jpg', '.jpeg')))
    if not paths:
        if osp.isdir(args.folder) and os.listdir(args.folder):
            sys.exit(f'--folder {args.folder} holds no JPEG files: give a folder of JPEGs (e.g. '
                     "ImageNet's train/), or a new or empty one to generate them in")
        paths = generate_jpeg_set(args.folder, args.images)
    pipelines = {'simmim_mm': list(cfg.train_dataloader.dataset.pipeline)}
    scopes = {'simmim_mm': 'simmim_mm'}
    if args.compare:
        pipelines['mmpretrain'], scopes['mmpretrain'] = mmpretrain_pipeline(cfg), 'mmpretrain'
    results = pipeline_throughput(pipelines, scopes, paths, trials=args.trials)
    report = dict(kind='data', config=args.config, folder=args.folder, images=len(paths),
                  machine=machine_facts('cpu'), results=results)
    if args.compare:
        report['speedup'] = (results['simmim_mm']['images_per_s'] /
                             results['mmpretrain']['images_per_s'])
    return report


def epoch_hours(images_per_s: float, devices: int, epochs: int) -> float:
    """Hours for ``epochs`` of ImageNet-1K at this per-device rate, scaling linearly."""
    return IMAGENET_TRAIN_IMAGES * epochs / (images_per_s * devices) / 3600


def markdown(report: dict) -> str:
    lines = [f"### {report['kind']}: {report['config']}", '']
    lines += [f'- {key}: {value}' for key, value in report['machine'].items()]
    lines.append('')
    if report['kind'] == 'train':
        lines += [f"batch {report['batch_size']}, {report['precision']}, dense matmul "
                  f"{report['matmul_flops_per_s'] / 1e9:.0f} GFLOP/s", '',
                  '| implementation | images/s | train GFLOPs/image | FLOP utilization '
                  '| peak memory |', '|---|---|---|---|---|']
        for impl, result in report['results'].items():
            memory = result.get('peak_memory_bytes')
            lines.append(f"| {impl} | {result['images_per_s']:.3g} | "
                         f"{result['train_flops_per_image'] / 1e9:.1f} | "
                         f"{result['flop_utilization']:.0%} | "
                         f"{'-' if memory is None else f'{memory / 2**20:.0f} MiB'} |")
        rate = report['results']['simmim_mm']['images_per_s']
        lines += ['', 'ImageNet-1K pretraining at this per-device rate, linear scaling: '
                  + '; '.join(f'{epochs} epochs on {devices}: {epoch_hours(rate, devices, epochs):,.0f} h'
                              for epochs in (100, 800) for devices in (8, 16, 64))]
    else:
        lines += [f"{report['images']} JPEGs in {report['folder']}, one worker thread", '',
                  '| implementation | images/s | ms per image by stage |', '|---|---|---|']
        for impl, result in report['results'].items():
            stages = ', '.join(f'{stage} {ms:.2f}' for stage, ms in result['stage_ms'].items())
            lines.append(f"| {impl} | {result['images_per_s']:.0f} | {stages} |")
    if 'speedup' in report:
        lines += ['', f"simmim_mm / mmpretrain: {report['speedup']:.2f}x"]
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    if args.trials < 1:
        sys.exit('--trials must be at least 1')
    if args.command == 'train':
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
        report = train_report(args) if args.command == 'train' else data_report(args)
    finally:
        logger.setLevel(level)
    print(markdown(report))
    if args.out:
        with atomic_path(args.out) as tmp, open(tmp, 'w') as file:
            json.dump(report, file, indent=1)
    return report


if __name__ == '__main__':
    main()
