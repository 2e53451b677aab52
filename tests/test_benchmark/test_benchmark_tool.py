"""tools/benchmark.py on a tiny Swin: the reports hold what they promise (not how fast)."""
import importlib.util
import json
import os.path as osp

import pytest
from PIL import Image

from conftest import REPO_ROOT, TINY_DEMO_MODEL

spec = importlib.util.spec_from_file_location(
    'benchmark_tool', osp.join(REPO_ROOT, 'tools', 'benchmark.py'))
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)

TINY_64PX = f"""
_base_ = {osp.join(REPO_ROOT, 'configs', 'pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py')!r}
{TINY_DEMO_MODEL}
train_pipeline = [
    dict(type='LoadImageFromFileOrSkip'),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.67, 1.0),
         aspect_ratio_range=(3. / 4., 4. / 3.), backend='pillow', interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='SimMIMMaskGenerator', input_size=64, mask_patch_size=16,
         model_patch_size=4, mask_ratio=0.6),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
"""


@pytest.fixture
def tiny_config(tmp_path):
    path = tmp_path / 'tiny.py'
    path.write_text(TINY_64PX)
    return str(path)


def test_train_report_against_mmpretrain(tiny_config, tmp_path, capsys):
    out = tmp_path / 'train.json'
    report = tool.main(['train', tiny_config, '--batch-size', '2', '--trials', '3',
                        '--warmup', '1', '--compare', 'mmpretrain', '--out', str(out)])
    ours, theirs = report['results']['simmim_mm'], report['results']['mmpretrain']
    # the same architecture on both sides: identical matmul / conv FLOPs per image
    assert ours['train_flops_per_image'] == theirs['train_flops_per_image'] > 0
    for result in (ours, theirs):
        assert len(result['seconds_per_step']) == 3
        assert result['images_per_s'] == pytest.approx(
            2 / sorted(result['seconds_per_step'])[1])
        assert 0 < result['flop_utilization'] < 1
        assert result['peak_memory_bytes'] > 2**20
    assert report['speedup'] == pytest.approx(ours['images_per_s'] / theirs['images_per_s'])
    assert json.loads(out.read_text())['results'].keys() == {'simmim_mm', 'mmpretrain'}
    printed = capsys.readouterr().out
    assert '| mmpretrain |' in printed and 'simmim_mm / mmpretrain' in printed
    assert 'native bf16' in printed and 'torch' in printed


def test_compare_refuses_an_encoder_mmpretrain_lacks(tmp_path):
    path = tmp_path / 'vit.py'
    path.write_text(f"_base_ = {osp.join(REPO_ROOT, 'configs', 'pretrain/simmim_vit-base-p16_16xb128-amp-step-800e_in1k-224px.py')!r}\n")
    with pytest.raises(ValueError, match=r"model.backbone.type='SimMIMViT'"):
        tool.main(['train', str(path), '--compare', 'mmpretrain', '--trials', '1'])


def test_cpu_fp16_is_refused(tiny_config):
    with pytest.raises(ValueError, match='fp16'):
        tool.main(['train', tiny_config, '--precision', 'fp16', '--trials', '1'])


def test_data_report_generates_imagenet_like_jpegs(tiny_config, tmp_path):
    folder = tmp_path / 'jpegs'
    report = tool.main(['data', tiny_config, '--folder', str(folder), '--images', '6',
                        '--trials', '1', '--compare', 'mmpretrain'])
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == [f'{i:06d}.jpg' for i in range(6)]
    for file in files:
        with Image.open(file) as image:
            assert image.format == 'JPEG' and image.size in ((500, 375), (375, 500))
    for name in ('simmim_mm', 'mmpretrain'):
        result = report['results'][name]
        assert result['images_per_s'] > 0
        assert {'RandomResizedCrop', 'SimMIMMaskGenerator', 'collate'} <= set(
            result['stage_ms'])
    # a second run reuses the folder as it is; an unreadable file is skipped, not a crash
    (folder / 'truncated.jpg').write_bytes(files[0].read_bytes()[:100])
    again = tool.main(['data', tiny_config, '--folder', str(folder), '--trials', '1'])
    assert again['images'] == 7 and list(again['results']) == ['simmim_mm']


def test_data_refuses_to_write_into_a_folder_without_jpegs(tiny_config, tmp_path):
    folder = tmp_path / 'my_pngs'
    folder.mkdir()
    (folder / 'scan.png').write_bytes(b'not touched')
    with pytest.raises(SystemExit, match='holds no JPEG files'):
        tool.main(['data', tiny_config, '--folder', str(folder), '--trials', '1'])
    assert [f.name for f in folder.iterdir()] == ['scan.png']
