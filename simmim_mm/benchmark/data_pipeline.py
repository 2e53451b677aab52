"""Per-worker data pipeline throughput: what one DataLoader worker (one thread, one core)
decodes, augments, masks and collates per second, with the time split per transform.

The inputs are results dicts as a dataset hands them to the pipeline (``img_path``, or
``img_bytes`` with ``img_path`` naming the sample), so any source of samples can be measured
with the same pipelines: a folder of JPEGs, and the same JPEGs read from shards."""
import copy
import glob
import itertools
import os
import os.path as osp
import time
from collections import defaultdict
from statistics import median
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Union

import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.registry import TRANSFORMS, DefaultScope

from simmim_mm.benchmark.jpeg_set import generate_jpeg_set
from simmim_mm.benchmark.machine import machine_facts

# the config's pipeline resizing by Pillow: the pipeline before the torch resize
PILLOW_RESIZE = 'simmim_mm, pillow resize'
SHARDS = ', from shards'  # a pipeline's row on the images read from shards
# a list of pipeline inputs, or a function that reads them afresh at each call (timed)
Samples = Union[Sequence[dict], Callable[[], Iterable[dict]]]


def build_transforms(pipeline: Sequence[dict], scope: str) -> list:
    """Build a pipeline in a registry scope ('simmim_mm' or 'mmpretrain')."""
    with DefaultScope.overwrite_default_scope(scope):
        return [TRANSFORMS.build(dict(step)) for step in pipeline]


def run_pipeline(transforms: list, samples: Samples, batch_size: int,
                 stage_seconds: Dict[str, float]) -> int:
    """Push every sample through the transforms and collate in batches; adds each stage's time
    to ``stage_seconds`` (a source's reading as 'read shards'); returns the number of images
    produced (a skipped file is none)."""

    def collate(batch: list) -> None:
        start = time.perf_counter()
        default_collate(batch)
        stage_seconds['collate'] += time.perf_counter() - start

    produced, batch = 0, []
    reading = callable(samples)
    iterator = iter(samples() if reading else samples)
    for index in itertools.count():
        start = time.perf_counter()
        sample = next(iterator, None)
        if reading:
            stage_seconds['read shards'] += time.perf_counter() - start
        if sample is None:
            break
        results = dict(sample, sample_idx=index)  # a copy: the loader consumes img_bytes
        for transform in transforms:
            start = time.perf_counter()
            results = transform(results)
            stage_seconds[type(transform).__name__] += time.perf_counter() - start
            if results is None:  # an unreadable file, skipped by LoadImageFromFileOrSkip
                break
        if results is None:
            continue
        batch.append(results)
        produced += 1
        if len(batch) == batch_size:
            collate(batch)
            batch = []
    if batch:
        collate(batch)
    return produced


def pipeline_throughput(pipelines: Dict[str, List[dict]],
                        scopes: Dict[str, str],
                        samples: Samples,
                        trials: int = 3,
                        batch_size: int = 32) -> dict:
    """Images/s of each named pipeline on one thread, trials alternating between pipelines;
    returns {name: {'images_per_s': median over trials by the wall clock,
    'images_per_cpu_s': the same by this process's CPU time (what a core does even where
    other processes share it), 'stage_ms': per-image ms by stage}}."""
    import cv2
    cv2.setNumThreads(0)  # as MMEngine sets it for DataLoader workers
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as PyTorch sets it in DataLoader workers
    try:
        built = {name: build_transforms(pipe, scopes[name]) for name, pipe in pipelines.items()}
        first = ((lambda: itertools.islice(samples(), batch_size))
                 if callable(samples) else samples[:batch_size])
        for transforms in built.values():  # warm-up: file cache, lazy imports
            run_pipeline(transforms, first, batch_size, defaultdict(float))
        rates, cpu_rates = defaultdict(list), defaultdict(list)
        stages = {name: defaultdict(float) for name in built}
        for _ in range(trials):
            for name, transforms in built.items():
                start, cpu_start = time.perf_counter(), time.process_time()
                produced = run_pipeline(transforms, samples, batch_size, stages[name])
                rates[name].append(produced / (time.perf_counter() - start))
                cpu_rates[name].append(produced / (time.process_time() - cpu_start))
    finally:
        torch.set_num_threads(threads)
    images = trials * sum(1 for _ in (samples() if callable(samples) else samples))
    return {
        name:
        dict(
            images_per_s=median(rates[name]),
            images_per_cpu_s=median(cpu_rates[name]),
            stage_ms={
                stage: 1e3 * seconds / images
                for stage, seconds in stages[name].items()
            })
        for name in built
    }


def folder_samples(folder: str, images: int) -> List[dict]:
    """The JPEGs under ``folder`` (recursively) as pipeline inputs; a missing or empty folder
    is filled with ``images`` ImageNet-like JPEGs first. A folder of other files is refused
    (ValueError) rather than written into."""
    paths = sorted(
        path for path in glob.glob(osp.join(folder, '**', '*'), recursive=True)
        if path.lower().endswith(('.jpg', '.jpeg')))
    if not paths:
        if osp.isdir(folder) and os.listdir(folder):
            raise ValueError(f'--folder {folder} holds no JPEG files: give a folder of JPEGs '
                             "(e.g. ImageNet's train/), or a new or empty one to generate "
                             'them in')
        paths = generate_jpeg_set(folder, images)
    return [dict(img_path=path) for path in paths]


def shard_samples(folder_samples: Sequence[dict], shard_dir: str) -> Callable[[], Iterator]:
    """The folder's images written as shards into ``shard_dir`` (once), and a function that
    reads them back sequentially as pipeline inputs (``img_bytes``), as WebDatasetShards
    does."""
    from simmim_mm.datasets.shards import read_index, read_shard
    from simmim_mm.datasets.shards.dataset import IMAGE_EXTENSIONS
    from simmim_mm.datasets.shards.writer import write_shards
    paths = [sample['img_path'] for sample in folder_samples]
    root = osp.commonpath(paths) if len(paths) > 1 else osp.dirname(paths[0])
    if not osp.exists(osp.join(shard_dir, 'index.json')):
        write_shards(
            root, [osp.relpath(path, root) for path in paths], shard_dir, log=lambda line: None)
    shards = [osp.join(shard_dir, name) for name in read_index(osp.join(shard_dir, 'index.json'))]

    def read():
        for shard in shards:
            for key, members in read_shard(shard):
                extension = next(ext for ext in IMAGE_EXTENSIONS if ext in members)
                yield dict(img_path=f'{shard}#{key}.{extension}', img_bytes=members[extension])

    return read


def pillow_resize_pipeline(pipeline: Sequence[dict]) -> Optional[List[dict]]:
    """The pipeline with its TorchRandomResizedCrop resizing by Pillow instead (what the
    config comment's override gives), or None where no TorchRandomResizedCrop resizes
    otherwise."""
    steps = copy.deepcopy(list(pipeline))
    crops = [
        step for step in steps if step['type'].split('.')[-1] == 'TorchRandomResizedCrop'
        and step.get('backend', 'torch') != 'pillow'
    ]
    for step in crops:
        step['backend'] = 'pillow'
    return steps if crops else None


def mmpretrain_pipeline(cfg: Config) -> List[dict]:
    """mmpretrain's SimMIM pipeline at the input and patch sizes of the config under test."""
    from simmim_mm.benchmark.train_step import mask_generator_cfg, mmpretrain_recipe
    mask = mask_generator_cfg(cfg)
    pipeline = mmpretrain_recipe().train_pipeline
    for step in pipeline:
        if step['type'] == 'RandomResizedCrop':
            step['scale'] = mask['input_size']
        elif step['type'] == 'SimMIMMaskGenerator':
            step.update(input_size=mask['input_size'], model_patch_size=mask['model_patch_size'])
    return pipeline


def data_report(cfg: Config,
                samples: Sequence[dict],
                trials: int,
                compare: Optional[str] = None,
                shard_dir: Optional[str] = None) -> dict:
    """The config's training pipeline ('simmim_mm'), its Pillow-resize variant where it has
    one (PILLOW_RESIZE) and, with ``compare='mmpretrain'``, mmpretrain's SimMIM pipeline,
    measured on the same samples; with ``shard_dir``, our pipelines again on the same images
    read from shards (SHARDS rows). Speedups are in images per CPU-second."""
    ours = list(cfg.train_dataloader.dataset.pipeline)
    pipelines, scopes = {'simmim_mm': ours}, {'simmim_mm': 'simmim_mm'}
    pillow = pillow_resize_pipeline(ours)
    if pillow is not None:
        pipelines[PILLOW_RESIZE], scopes[PILLOW_RESIZE] = pillow, 'simmim_mm'
    if compare == 'mmpretrain':
        pipelines['mmpretrain'], scopes['mmpretrain'] = mmpretrain_pipeline(cfg), 'mmpretrain'
    results = pipeline_throughput(pipelines, scopes, samples, trials=trials)
    if shard_dir is not None:
        ours = {name: pipe for name, pipe in pipelines.items() if name != 'mmpretrain'}
        from_shards = pipeline_throughput(
            ours, scopes, shard_samples(samples, shard_dir), trials=trials)
        results.update({name + SHARDS: result for name, result in from_shards.items()})
    report = dict(kind='data', images=len(samples), machine=machine_facts('cpu'), results=results)
    rate = results['simmim_mm']['images_per_cpu_s']
    if pillow is not None:
        report['speedup_over_pillow_resize'] = rate / results[PILLOW_RESIZE]['images_per_cpu_s']
    if compare == 'mmpretrain':
        report['speedup'] = rate / results['mmpretrain']['images_per_cpu_s']
    return report


def data_lines(report: dict) -> List[str]:
    """The Markdown table of a data report."""
    lines = [
        f"{report['images']} JPEGs in {report['folder']}" +
        (f" and in shards in {report['shards']}" if report.get('shards') else '') +
        ', one worker thread', '',
        '| pipeline | images/s per core (CPU time) | images/s (wall clock) '
        '| ms per image by stage |', '|---|---|---|---|'
    ]
    for name, result in report['results'].items():
        stages = ', '.join(f'{stage} {ms:.2f}' for stage, ms in result['stage_ms'].items())
        lines.append(f"| {name} | {result['images_per_cpu_s']:.0f} | "
                     f"{result['images_per_s']:.0f} | {stages} |")
    if 'speedup_over_pillow_resize' in report:
        lines += [
            '', f"simmim_mm / {PILLOW_RESIZE}: {report['speedup_over_pillow_resize']:.2f}x "
            'images per CPU-second'
        ]
    return lines
