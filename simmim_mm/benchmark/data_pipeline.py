"""Per-worker data pipeline throughput: what one DataLoader worker (one thread) decodes,
augments, masks and collates per second, with the time split per transform."""
import time
from collections import defaultdict
from statistics import median
from typing import Dict, List, Sequence

import torch
from mmengine.dataset import default_collate
from mmengine.registry import TRANSFORMS, DefaultScope


def build_transforms(pipeline: Sequence[dict], scope: str) -> list:
    """Build a pipeline in a registry scope ('simmim_mm' or 'mmpretrain')."""
    with DefaultScope.overwrite_default_scope(scope):
        return [TRANSFORMS.build(dict(step)) for step in pipeline]


def run_pipeline(transforms: list, paths: Sequence[str], batch_size: int,
                 stage_seconds: Dict[str, float]) -> int:
    """Push every file through the transforms and collate in batches; adds each stage's time
    to ``stage_seconds``; returns the number of images produced (a skipped file is none)."""
    def collate(batch: list) -> None:
        start = time.perf_counter()
        default_collate(batch)
        stage_seconds['collate'] += time.perf_counter() - start

    produced, batch = 0, []
    for index, path in enumerate(paths):
        results = dict(img_path=path, sample_idx=index)
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


def pipeline_throughput(pipelines: Dict[str, List[dict]], scopes: Dict[str, str],
                        paths: Sequence[str], trials: int = 3, batch_size: int = 32) -> dict:
    """Images/s of each named pipeline on one thread, trials alternating between pipelines;
    returns {name: {'images_per_s': median, 'stage_ms': per-image ms by stage}}."""
    import cv2
    cv2.setNumThreads(0)  # as MMEngine sets it for DataLoader workers
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        built = {name: build_transforms(pipe, scopes[name]) for name, pipe in pipelines.items()}
        for name, transforms in built.items():  # warm-up: file cache, lazy imports
            run_pipeline(transforms, paths[:batch_size], batch_size, defaultdict(float))
        rates = defaultdict(list)
        stages = {name: defaultdict(float) for name in built}
        for _ in range(trials):
            for name, transforms in built.items():
                start = time.perf_counter()
                produced = run_pipeline(transforms, paths, batch_size, stages[name])
                rates[name].append(produced / (time.perf_counter() - start))
    finally:
        torch.set_num_threads(threads)
    images = trials * len(paths)
    return {name: dict(images_per_s=median(rates[name]),
                       stage_ms={stage: 1e3 * seconds / images
                                 for stage, seconds in stages[name].items()})
            for name in built}
