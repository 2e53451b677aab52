"""Benchmark SimMIM training against mmpretrain's, on this machine, each in its own process.

Training step (images/s, peak memory, FLOP utilization): each implementation runs in fresh
processes of its own, as in a training run, one process at a time: --rounds rounds of one
process per implementation, the order alternating, each process timing --trials steps after
warm-up. A plain `model.train_step` loop over the same model and batch, in yet another fresh
process, checks the numbers: the report flags an implementation whose rate differs from its
loop's by more than --tolerance.
    python tools/benchmark.py train configs/pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py --batch-size 4 --compare mmpretrain
    python tools/benchmark.py train configs/pretrain/simmim_vit-base-p16_16xb128-amp-step-800e_in1k-224px.py --device cuda --precision bf16 --out vit.json

Data pipeline per worker (one thread: images/s per core, ms per stage) on a folder of JPEGs,
generated from the bundled photos if it does not exist yet; a config that resizes with
TorchRandomResizedCrop is also measured with Pillow's resize, the pipeline it replaced; with
--shards, both again on the same JPEGs read from WebDataset shards:
    python tools/benchmark.py data configs/pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py --folder /tmp/jpegs --shards /tmp/jpeg-shards --compare mmpretrain

What compression buys: a distillation config's teacher and student encoders side by side,
parameters, forward FLOPs and inference images/s at the fine-tune size (224 px, unmasked,
eval mode, no_grad), each encoder timed in fresh processes of its own as `train` does:
    python tools/benchmark.py compress configs/distill/tinymim_vit-base-p16-to-vit-small-p16_32xb128-amp-300e_in1k-224px.py --batch-size 8 --precision bf16

Each prints a Markdown report (the machine, versions and command included) and, with
--out, also writes it as JSON. Results: docs/benchmarks.md.
"""
import argparse
import json
import logging
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
                             help="also measure mmpretrain 1.2.0's SimMIM, alternating with ours")
        command.add_argument('--trials', type=int, default=5,
                             help='train: timed steps per process; data: passes over the folder')
        command.add_argument('--cfg-options', nargs='+', action=DictAction)
        command.add_argument('--out', help='also write the results as JSON here')
    compress = commands.add_parser(
        'compress', help="a distillation config's teacher and student: parameters, FLOPs, "
        'inference images/s')
    compress.add_argument('config', help='a distillation config (model.teacher, '
                          'model.backbone)')
    compress.add_argument('--image-size', type=int, default=224,
                          help='inference image size (default 224, the fine-tune size)')
    compress.add_argument('--trials', type=int, default=5, help='timed forwards per process')
    compress.add_argument('--threads', type=int,
                          help="torch threads per process (default torch's); 1 makes the CPU "
                          'time per image a measure of the work on a shared machine')
    compress.add_argument('--cfg-options', nargs='+', action=DictAction)
    compress.add_argument('--out', help='also write the results as JSON here')
    train = commands.choices['train']
    for command in (train, compress):
        command.add_argument('--batch-size', type=int, default=4, help='images per step')
        command.add_argument('--device', choices=['cpu', 'cuda'],
                             help='default: cuda where there is a GPU, else cpu')
        command.add_argument('--rounds', type=int, default=3,
                             help='fresh processes per model, alternating (default 3)')
        command.add_argument('--warmup', type=int, default=2,
                             help='untimed steps per process (at least 1)')
        command.add_argument('--no-memory', action='store_true', help='skip peak memory')
    train.add_argument('--precision', choices=['fp32', 'bf16', 'fp16'], default='fp32')
    compress.add_argument('--precision', choices=['fp32', 'bf16', 'fp16'], default='fp32',
                          help='fp32, or autocast to bf16 / fp16 (fp16: GPU only)')
    train.add_argument('--no-check', action='store_true',
                       help='skip the standalone train_step loop that checks the numbers')
    train.add_argument('--tolerance', type=float, default=0.2,
                       help='flag an implementation whose images/s differs from its '
                       'standalone loop by more than this fraction (default 0.2)')
    data = commands.choices['data']
    data.add_argument('--folder', required=True,
                      help='folder of JPEGs, searched recursively; a missing or empty one is '
                      'filled with an ImageNet-like set made from the bundled photos')
    data.add_argument('--images', type=int, default=500,
                      help='how many to generate when the folder is missing')
    data.add_argument('--shards', metavar='DIR',
                      help="also read the folder's JPEGs from shards in DIR (written there "
                      'first if it has no index.json)')
    return parser.parse_args(argv)


def flop_ceiling(device: str, device_name: str, precision: str, matmul: float) -> dict:
    """What FLOP utilization is taken against: on a GPU its datasheet dense peak for the
    precision (None where the table has no such GPU), on a CPU the measured matmul rate."""
    from simmim_mm.benchmark.machine import gpu_peak_flops
    if device.startswith('cuda'):
        peak = gpu_peak_flops(device_name, precision)
        source = (f'datasheet dense {precision} peak of {device_name}' if peak else
                  f'unknown: no datasheet peak for {device_name} in '
                  'simmim_mm/benchmark/machine.py')
        return dict(peak_flops_per_s=peak, peak_source=source)
    return dict(peak_flops_per_s=matmul,
                peak_source=f'measured dense {precision} matmul rate (2048 x 2048)')


def train_report(args) -> dict:
    from simmim_mm.benchmark.processes import (StepSpec, agreement, measure_in_processes,
                                               standalone_loop)
    from simmim_mm.benchmark.train_step import (check_comparable, check_precision,
                                                load_config, matmul_rate)
    check_precision(args.device, args.precision)
    cfg = load_config(args.config, args.cfg_options)
    impls = ['simmim_mm'] + ([args.compare] if args.compare else [])
    for impl in impls:
        check_comparable(cfg, impl)
    machine = machine_facts(args.device)
    matmul = matmul_rate(args.device, args.precision)  # before any other process starts
    ceiling = flop_ceiling(args.device, machine['device'], args.precision, matmul)
    specs = {impl: StepSpec(args.config, args.cfg_options, impl, args.precision,
                            args.batch_size, args.device) for impl in impls}
    measured = measure_in_processes(specs, args.warmup, args.trials, args.rounds,
                                    not args.no_memory)
    results = {}
    for impl, result in measured.items():
        images_per_s = args.batch_size / median(result['seconds_per_step'])
        peak = ceiling['peak_flops_per_s']
        results[impl] = dict(
            result, images_per_s=images_per_s,
            flop_utilization=(result['train_flops_per_image'] * images_per_s / peak
                              if peak else None))
    if not args.no_check:  # one at a time, after the timed processes have ended
        for impl, spec in specs.items():
            loop = standalone_loop(spec, args.warmup, args.trials)
            results[impl]['standalone'] = dict(
                loop, **agreement(results[impl]['images_per_s'], loop['images_per_s'],
                                  args.tolerance))
    report = dict(kind='train', config=args.config, batch_size=args.batch_size,
                  precision=args.precision, device=args.device, matmul_flops_per_s=matmul,
                  **ceiling, rounds=args.rounds,
                  machine=machine, results=results)
    if not args.no_check:
        report['check'] = dict(tolerance=args.tolerance, agrees=all(
            result['standalone']['agrees'] for result in results.values()))
    if args.compare:
        report['speedup'] = (results['simmim_mm']['images_per_s'] /
                             results[args.compare]['images_per_s'])
    return report


def compress_report(args) -> dict:
    from simmim_mm.benchmark.inference import architecture, measure_teacher_student
    from simmim_mm.benchmark.train_step import check_precision, load_config
    check_precision(args.device, args.precision)
    cfg = load_config(args.config, args.cfg_options)
    machine = machine_facts(args.device)
    measured = measure_teacher_student(args.config, args.cfg_options, args.precision,
                                       args.batch_size, args.device, args.image_size,
                                       args.warmup, args.trials, args.rounds,
                                       not args.no_memory, args.threads)
    results = {}
    for role, result in measured.items():
        cpu_seconds = [s for p in result['processes'] for s in p['cpu_seconds_per_step']]
        results[role] = dict(
            result, architecture=architecture(cfg, role),
            images_per_s=args.batch_size / median(result['seconds_per_step']),
            images_per_cpu_s=args.batch_size / median(cpu_seconds))
    teacher, student = results['teacher'], results['student']
    return dict(kind='compress', config=args.config, image_size=args.image_size,
                batch_size=args.batch_size, precision=args.precision, device=args.device,
                threads=args.threads, rounds=args.rounds, machine=machine, results=results,
                teacher_over_student=dict(
                    parameters=teacher['parameters'] / student['parameters'],
                    flops=teacher['flops_per_image'] / student['flops_per_image'],
                    speedup=student['images_per_s'] / teacher['images_per_s'],
                    cpu_speedup=student['images_per_cpu_s'] / teacher['images_per_cpu_s']))


def compress_lines(report: dict) -> list:
    lines = [f"{report['image_size']} px, batch {report['batch_size']}, "
             f"{report['precision']}, encoder forward only (eval, no_grad, unmasked), "
             f"{report['rounds']} fresh processes per model, one at a time, alternating, "
             f"{report['threads'] or 'default'} torch threads; FLOPs: matmul / conv / "
             'attention, 2 per multiply-add; images per CPU-s: per second of the process\'s '
             'CPU time, all threads', '',
             '| model | encoder | parameters | GFLOPs/image | images/s | images per CPU-s '
             '| peak memory | pids |', '|---|---|---|---|---|---|---|---|']
    for role, result in report['results'].items():
        memory = result.get('peak_memory_bytes')
        lines.append(
            f"| {role} | {result['architecture']} | {result['parameters'] / 1e6:.2f} M | "
            f"{result['flops_per_image'] / 1e9:.2f} | {result['images_per_s']:.3g} | "
            f"{result['images_per_cpu_s']:.3g} | "
            f"{'-' if memory is None else f'{memory / 2**20:.0f} MiB'} | "
            f"{', '.join(str(p['pid']) for p in result['processes'])} |")
    ratio = report['teacher_over_student']
    lines += ['', f"Student vs teacher: {ratio['parameters']:.1f}x fewer parameters, "
              f"{ratio['flops']:.1f}x fewer FLOPs, {ratio['speedup']:.2f}x the images/s, "
              f"{ratio['cpu_speedup']:.2f}x the images per CPU-s."]
    return lines


def data_report(args) -> dict:
    from simmim_mm.benchmark import data_pipeline
    from simmim_mm.benchmark.train_step import load_config
    cfg = load_config(args.config, args.cfg_options)
    try:
        samples = data_pipeline.folder_samples(args.folder, args.images)
    except ValueError as error:
        sys.exit(str(error))
    report = data_pipeline.data_report(cfg, samples, args.trials, args.compare, args.shards)
    report.update(config=args.config, folder=args.folder, shards=args.shards)
    return report


def epoch_hours(images_per_s: float, devices: int, epochs: int) -> float:
    """Hours for ``epochs`` of ImageNet-1K at this per-device rate, scaling linearly."""
    return IMAGENET_TRAIN_IMAGES * epochs / (images_per_s * devices) / 3600


def _rate(value: float) -> str:
    return f'{value / 1e12:.1f} TFLOP/s' if value >= 1e12 else f'{value / 1e9:.0f} GFLOP/s'


def train_lines(report: dict) -> list:
    peak, matmul = report['peak_flops_per_s'], report['matmul_flops_per_s']
    against = f"{_rate(peak) + ' = ' if peak else ''}{report['peak_source']}"
    if peak != matmul:
        against += f' (dense matmul measured here: {_rate(matmul)})'
    lines = [f"batch {report['batch_size']}, {report['precision']}, {report['rounds']} "
             'fresh processes per implementation, one at a time, alternating; FLOP utilization '
             f'against {against}', '']
    lines += ['| implementation | images/s | standalone loop images/s | train GFLOPs/image '
              '| FLOP utilization | peak memory | pids (timed / loop) |',
              '|---|---|---|---|---|---|---|']
    for impl, result in report['results'].items():
        memory = result.get('peak_memory_bytes')
        loop = result.get('standalone')
        utilization = result['flop_utilization']
        lines.append(
            f"| {impl} | {result['images_per_s']:.3g} | "
            f"{'-' if loop is None else format(loop['images_per_s'], '.3g')}"
            f"{'' if loop is None or loop['agrees'] else ' (disagrees)'} | "
            f"{result['train_flops_per_image'] / 1e9:.1f} | "
            f"{'unknown' if utilization is None else format(utilization, '.0%')} | "
            f"{'-' if memory is None else f'{memory / 2**20:.0f} MiB'} | "
            f"{', '.join(str(p['pid']) for p in result['processes'])}"
            f"{'' if loop is None else ' / ' + str(loop['pid'])} |")
    if 'check' in report:
        tolerance = report['check']['tolerance']
        if report['check']['agrees']:
            lines += ['', f'Check: every rate is within {tolerance:.0%} of a plain '
                      '`model.train_step` loop in a fresh process of its own.']
        else:
            off = '; '.join(f"{impl} {result['standalone']['ratio']:.2f}x its loop"
                            for impl, result in report['results'].items()
                            if not result['standalone']['agrees'])
            lines += ['', f'**Check failed**: {off}, beyond the {tolerance:.0%} tolerance. '
                      'The machine was busy or its speed drifted, or the harness measures '
                      'something a training run does not: do not use these numbers.']
    rate = report['results']['simmim_mm']['images_per_s']
    lines += ['', 'ImageNet-1K pretraining at this per-device rate, linear scaling: '
              + '; '.join(f'{epochs} epochs on {devices}: '
                          f'{epoch_hours(rate, devices, epochs):,.0f} h'
                          for epochs in (100, 800) for devices in (8, 16, 64))]
    return lines


def markdown(report: dict) -> str:
    lines = [f"### {report['kind']}: {report['config']}", '']
    lines += [f'- {key}: {value}' for key, value in report['machine'].items()]
    lines.append('')
    if report['kind'] == 'train':
        lines += train_lines(report)
    elif report['kind'] == 'compress':
        lines += compress_lines(report)
    else:
        from simmim_mm.benchmark.data_pipeline import data_lines
        lines += data_lines(report)
    if 'speedup' in report:
        lines += ['', f"simmim_mm / mmpretrain: {report['speedup']:.2f}x"]
    return '\n'.join(lines)


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
        report = dict(train=train_report, compress=compress_report,
                      data=data_report)[args.command](args)
    finally:
        logger.setLevel(level)
    print(markdown(report))
    if args.out:
        with atomic_path(args.out) as tmp, open(tmp, 'w') as file:
            json.dump(report, file, indent=1)
    return report


if __name__ == '__main__':
    main()
