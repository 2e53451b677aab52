"""The reports of tools/benchmark.py: what `train` and `compress` measure, gathered into one
dict (written as JSON), and every report rendered as Markdown
(docs/en/useful_tools/benchmark.md)."""
from statistics import median
from typing import List, Optional

from simmim_mm.benchmark.machine import gpu_peak_flops, machine_facts

IMAGENET_TRAIN_IMAGES = 1281167


def flop_ceiling(device: str, device_name: str, precision: str, matmul: float) -> dict:
    """What FLOP utilization is taken against: on a GPU its datasheet dense peak for the
    precision (None where the table has no such GPU), on a CPU the measured matmul rate."""
    if device.startswith('cuda'):
        peak = gpu_peak_flops(device_name, precision)
        source = (f'datasheet dense {precision} peak of {device_name}'
                  if peak else f'unknown: no datasheet peak for {device_name} in '
                  'simmim_mm/benchmark/machine.py')
        return dict(peak_flops_per_s=peak, peak_source=source)
    return dict(
        peak_flops_per_s=matmul,
        peak_source=f'measured dense {precision} matmul rate (2048 x 2048)')


def train_report(config: str,
                 cfg_options: Optional[dict],
                 *,
                 batch_size: int,
                 device: str,
                 precision: str,
                 warmup: int,
                 trials: int,
                 rounds: int,
                 memory: bool = True,
                 compare: Optional[str] = None,
                 check: bool = True,
                 tolerance: float = 0.2) -> dict:
    """Training-step rate, memory and FLOP utilization of simmim_mm (and ``compare``), each
    in fresh processes of its own; with ``check``, each against a plain train_step loop."""
    from simmim_mm.benchmark.processes import (
        StepSpec,
        agreement,
        measure_in_processes,
        standalone_loop,
    )
    from simmim_mm.benchmark.train_step import (
        check_comparable,
        check_precision,
        load_config,
        matmul_rate,
    )
    check_precision(device, precision)
    cfg = load_config(config, cfg_options)
    impls = ['simmim_mm'] + ([compare] if compare else [])
    for impl in impls:
        check_comparable(cfg, impl)
    machine = machine_facts(device)
    matmul = matmul_rate(device, precision)  # before any other process starts
    ceiling = flop_ceiling(device, machine['device'], precision, matmul)
    specs = {
        impl: StepSpec(config, cfg_options, impl, precision, batch_size, device)
        for impl in impls
    }
    measured = measure_in_processes(specs, warmup, trials, rounds, memory)
    results = {}
    for impl, result in measured.items():
        images_per_s = batch_size / median(result['seconds_per_step'])
        peak = ceiling['peak_flops_per_s']
        results[impl] = dict(
            result,
            images_per_s=images_per_s,
            flop_utilization=(result['train_flops_per_image'] * images_per_s /
                              peak if peak else None))
    if check:  # one at a time, after the timed processes have ended
        for impl, spec in specs.items():
            loop = standalone_loop(spec, warmup, trials)
            results[impl]['standalone'] = dict(
                loop, **agreement(results[impl]['images_per_s'], loop['images_per_s'], tolerance))
    report = dict(
        kind='train',
        config=config,
        batch_size=batch_size,
        precision=precision,
        device=device,
        matmul_flops_per_s=matmul,
        **ceiling,
        rounds=rounds,
        machine=machine,
        results=results)
    if check:
        report['check'] = dict(
            tolerance=tolerance,
            agrees=all(result['standalone']['agrees'] for result in results.values()))
    if compare:
        report['speedup'] = (
            results['simmim_mm']['images_per_s'] / results[compare]['images_per_s'])
    return report


def compress_report(config: str,
                    cfg_options: Optional[dict],
                    *,
                    batch_size: int,
                    device: str,
                    precision: str,
                    image_size: int,
                    warmup: int,
                    trials: int,
                    rounds: int,
                    memory: bool = True,
                    threads: Optional[int] = None) -> dict:
    """A distillation config's teacher and student encoders: parameters, forward FLOPs and
    inference images/s (wall clock and per CPU-second), and the teacher / student ratios."""
    from simmim_mm.benchmark.inference import architecture, measure_teacher_student
    from simmim_mm.benchmark.train_step import check_precision, load_config
    check_precision(device, precision)
    cfg = load_config(config, cfg_options)
    machine = machine_facts(device)
    measured = measure_teacher_student(config, cfg_options, precision, batch_size, device,
                                       image_size, warmup, trials, rounds, memory, threads)
    results = {}
    for role, result in measured.items():
        cpu_seconds = [s for p in result['processes'] for s in p['cpu_seconds_per_step']]
        results[role] = dict(
            result,
            architecture=architecture(cfg, role),
            images_per_s=batch_size / median(result['seconds_per_step']),
            images_per_cpu_s=batch_size / median(cpu_seconds))
    teacher, student = results['teacher'], results['student']
    return dict(
        kind='compress',
        config=config,
        image_size=image_size,
        batch_size=batch_size,
        precision=precision,
        device=device,
        threads=threads,
        rounds=rounds,
        machine=machine,
        results=results,
        teacher_over_student=dict(
            parameters=teacher['parameters'] / student['parameters'],
            flops=teacher['flops_per_image'] / student['flops_per_image'],
            speedup=student['images_per_s'] / teacher['images_per_s'],
            cpu_speedup=student['images_per_cpu_s'] / teacher['images_per_cpu_s']))


def epoch_hours(images_per_s: float, devices: int, epochs: int) -> float:
    """Hours for ``epochs`` of ImageNet-1K at this per-device rate, scaling linearly."""
    return IMAGENET_TRAIN_IMAGES * epochs / (images_per_s * devices) / 3600


def _rate(value: float) -> str:
    return f'{value / 1e12:.1f} TFLOP/s' if value >= 1e12 else f'{value / 1e9:.0f} GFLOP/s'


def _memory(result: dict) -> str:
    memory = result.get('peak_memory_bytes')
    return '-' if memory is None else f'{memory / 2**20:.0f} MiB'


def train_lines(report: dict) -> List[str]:
    """The Markdown table of a train report, its check and the ImageNet-1K hours."""
    peak, matmul = report['peak_flops_per_s'], report['matmul_flops_per_s']
    against = f"{_rate(peak) + ' = ' if peak else ''}{report['peak_source']}"
    if peak != matmul:
        against += f' (dense matmul measured here: {_rate(matmul)})'
    lines = [
        f"batch {report['batch_size']}, {report['precision']}, {report['rounds']} "
        'fresh processes per implementation, one at a time, alternating; FLOP utilization '
        f'against {against}', ''
    ]
    lines += [
        '| implementation | images/s | standalone loop images/s | train GFLOPs/image '
        '| FLOP utilization | peak memory | pids (timed / loop) |', '|---|---|---|---|---|---|---|'
    ]
    for impl, result in report['results'].items():
        loop = result.get('standalone')
        utilization = result['flop_utilization']
        lines.append(f"| {impl} | {result['images_per_s']:.3g} | "
                     f"{'-' if loop is None else format(loop['images_per_s'], '.3g')}"
                     f"{'' if loop is None or loop['agrees'] else ' (disagrees)'} | "
                     f"{result['train_flops_per_image'] / 1e9:.1f} | "
                     f"{'unknown' if utilization is None else format(utilization, '.0%')} | "
                     f"{_memory(result)} | "
                     f"{', '.join(str(p['pid']) for p in result['processes'])}"
                     f"{'' if loop is None else ' / ' + str(loop['pid'])} |")
    if 'check' in report:
        tolerance = report['check']['tolerance']
        if report['check']['agrees']:
            lines += [
                '', f'Check: every rate is within {tolerance:.0%} of a plain '
                '`model.train_step` loop in a fresh process of its own.'
            ]
        else:
            off = '; '.join(f"{impl} {result['standalone']['ratio']:.2f}x its loop"
                            for impl, result in report['results'].items()
                            if not result['standalone']['agrees'])
            lines += [
                '', f'**Check failed**: {off}, beyond the {tolerance:.0%} tolerance. '
                'The machine was busy or its speed drifted, or the harness measures '
                'something a training run does not: do not use these numbers.'
            ]
    rate = report['results']['simmim_mm']['images_per_s']
    lines += [
        '', 'ImageNet-1K pretraining at this per-device rate, linear scaling: ' +
        '; '.join(f'{epochs} epochs on {devices}: '
                  f'{epoch_hours(rate, devices, epochs):,.0f} h' for epochs in (100, 800)
                  for devices in (8, 16, 64))
    ]
    return lines


def compress_lines(report: dict) -> List[str]:
    """The Markdown table of a compress report and the student / teacher ratios."""
    lines = [
        f"{report['image_size']} px, batch {report['batch_size']}, "
        f"{report['precision']}, encoder forward only (eval, no_grad, unmasked), "
        f"{report['rounds']} fresh processes per model, one at a time, alternating, "
        f"{report['threads'] or 'default'} torch threads; FLOPs: matmul / conv / "
        'attention, 2 per multiply-add; images per CPU-s: per second of the process\'s '
        'CPU time, all threads', '',
        '| model | encoder | parameters | GFLOPs/image | images/s | images per CPU-s '
        '| peak memory | pids |', '|---|---|---|---|---|---|---|---|'
    ]
    for role, result in report['results'].items():
        lines.append(f"| {role} | {result['architecture']} | {result['parameters'] / 1e6:.2f} M | "
                     f"{result['flops_per_image'] / 1e9:.2f} | {result['images_per_s']:.3g} | "
                     f"{result['images_per_cpu_s']:.3g} | {_memory(result)} | "
                     f"{', '.join(str(p['pid']) for p in result['processes'])} |")
    ratio = report['teacher_over_student']
    lines += [
        '', f"Student vs teacher: {ratio['parameters']:.1f}x fewer parameters, "
        f"{ratio['flops']:.1f}x fewer FLOPs, {ratio['speedup']:.2f}x the images/s, "
        f"{ratio['cpu_speedup']:.2f}x the images per CPU-s."
    ]
    return lines


def markdown(report: dict) -> str:
    """Any report (train, compress or data) as Markdown: the machine, then its table."""
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
