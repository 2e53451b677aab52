"""The data-pipeline measurement takes samples as a dataset hands them to the pipeline, so a
folder and a shard reader (bytes) are measured alike, and it measures the Pillow resize
that the torch resize replaced (issue: a faithful input pipeline at twice the speed)."""
import copy
import os.path as osp
from pathlib import Path

from mmengine.config import Config

from simmim_mm.benchmark.data_pipeline import pillow_resize_pipeline, pipeline_throughput
from simmim_mm.benchmark.jpeg_set import generate_jpeg_set

from conftest import REPO_ROOT

BASE_PIPELINE = Config.fromfile(
    osp.join(REPO_ROOT, 'configs', '_base_', 'datasets', 'imagenet_simmim_192.py')).train_pipeline


def test_the_pillow_variant_changes_only_the_resize_backend():
    pipeline = copy.deepcopy(BASE_PIPELINE)
    pillow = pillow_resize_pipeline(pipeline)
    assert pipeline == BASE_PIPELINE  # not modified in place
    assert [step['type'] for step in pillow] == [step['type'] for step in pipeline]
    changed = [(ours, theirs) for ours, theirs in zip(pipeline, pillow) if ours != theirs]
    assert changed == [(pipeline[1], dict(pipeline[1], backend='pillow'))]
    assert pillow_resize_pipeline(pillow) is None


def test_samples_may_carry_their_bytes(tmp_path):
    paths = generate_jpeg_set(str(tmp_path), 3)
    samples = [
        dict(img_path=f'shard-0.tar/{i}.jpg', img_bytes=Path(path).read_bytes())
        for i, path in enumerate(paths)
    ]
    samples.append(dict(img_path='shard-0.tar/empty.jpg', img_bytes=b''))
    kept = copy.deepcopy(samples)
    pipelines = {'torch': BASE_PIPELINE, 'pillow': pillow_resize_pipeline(BASE_PIPELINE)}
    results = pipeline_throughput(
        pipelines, dict.fromkeys(pipelines, 'simmim_mm'), samples, trials=2, batch_size=2)
    assert samples == kept  # every trial decodes the same bytes again
    for result in results.values():
        assert result['images_per_s'] > 0 and result['images_per_cpu_s'] > 0
        assert set(result['stage_ms']) == {
            'LoadImageFromFileOrSkip', 'TorchRandomResizedCrop', 'RandomFlip',
            'SimMIMMaskGenerator', 'PackInputs', 'collate'
        }
        assert all(ms > 0 for ms in result['stage_ms'].values())
