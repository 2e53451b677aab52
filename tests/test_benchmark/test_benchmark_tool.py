"""tools/benchmark.py (and simmim_mm.benchmark.report behind it) on a tiny Swin: the reports hold
what they promise (not how fast)."""
import importlib.util
import json
import os
import os.path as osp
import statistics

import pytest
from PIL import Image

from simmim_mm.benchmark.processes import agreement
from simmim_mm.benchmark.report import epoch_hours, flop_ceiling, markdown

from conftest import REPO_ROOT, TINY_DEMO_MODEL

spec = importlib.util.spec_from_file_location('benchmark_tool',
                                              osp.join(REPO_ROOT, 'tools', 'benchmark.py'))
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)

SWIN_B = osp.join(REPO_ROOT, 'configs', 'pretrain',
                  'simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py')
VIT_B = osp.join(REPO_ROOT, 'configs', 'pretrain',
                 'simmim_vit-base-p16_16xb128-amp-step-800e_in1k-224px.py')
TINY_64PX = f"""
_base_ = {SWIN_B!r}
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
    report = tool.main([
        'train', tiny_config, '--batch-size', '2', '--rounds', '2', '--trials', '3', '--warmup',
        '1', '--precision', 'fp32', '--compare', 'mmpretrain', '--out',
        str(out)
    ])
    ours, theirs = report['results']['simmim_mm'], report['results']['mmpretrain']
    # the same architecture on both sides: identical matmul / conv FLOPs per image
    assert ours['train_flops_per_image'] == theirs['train_flops_per_image'] > 0
    for result in (ours, theirs):
        # 2 rounds of a fresh process timing 3 steps; the rate comes from all 6
        assert [len(p['seconds_per_step']) for p in result['processes']] == [3, 3]
        assert result['seconds_per_step'] == [
            s for p in result['processes'] for s in p['seconds_per_step']
        ]
        assert result['images_per_s'] == pytest.approx(
            2 / statistics.median(result['seconds_per_step']))
        assert 0 < result['flop_utilization'] < 1
        assert result['peak_memory_bytes'] > 2**20
    assert report['speedup'] == pytest.approx(ours['images_per_s'] / theirs['images_per_s'])
    # on a CPU, utilization is against the matmul rate measured here
    assert report['peak_flops_per_s'] == report['matmul_flops_per_s'] > 0
    saved = json.loads(out.read_text())
    assert saved['results'].keys() == {'simmim_mm', 'mmpretrain'} and saved['rounds'] == 2
    # each implementation timed in processes of its own, and each checked by a plain
    # train_step loop in yet another one: 2 x 2 + 2 processes besides this one
    loops = {impl: result['standalone'] for impl, result in saved['results'].items()}
    pids = [os.getpid()] + [p['pid'] for result in (ours, theirs) for p in result['processes']
                            ] + [loop['pid'] for loop in loops.values()]
    assert len(set(pids)) == 7
    for impl, loop in loops.items():
        assert loop['steps'] == 3 and loop['images_per_s'] == pytest.approx(2 * 3 / loop['seconds'])
        # how far apart they are is reported, not asserted: speed is not a test's business
        ratio = saved['results'][impl]['images_per_s'] / loop['images_per_s']
        assert loop['ratio'] == pytest.approx(ratio)
        assert loop['agrees'] == (abs(ratio - 1) <= 0.2)
    assert saved['check'] == dict(
        tolerance=0.2, agrees=all(loop['agrees'] for loop in loops.values()))
    printed = capsys.readouterr().out
    assert '| mmpretrain |' in printed and 'simmim_mm / mmpretrain' in printed
    assert 'native bf16' in printed and 'torch' in printed
    assert '2 fresh processes per implementation' in printed
    assert 'standalone loop images/s' in printed
    assert ('Check: every rate is within 20%' in printed) == saved['check']['agrees']
    assert ('**Check failed**' in printed) != saved['check']['agrees']


def test_no_check_skips_the_standalone_loop(tiny_config):
    report = tool.main([
        'train', tiny_config, '--batch-size', '1', '--rounds', '1', '--trials', '1', '--warmup',
        '1', '--precision', 'fp32', '--no-check', '--no-memory'
    ])
    result = report['results']['simmim_mm']
    assert 'check' not in report and 'standalone' not in result
    assert 'peak_memory_bytes' not in result
    assert [p['pid'] for p in result['processes']] != [os.getpid()]
    assert '| - | ' in markdown(report)


def fake_train_report(device='cpu', device_name='cpu', precision='bf16', loop_rate=2.0):
    """A report as train_report writes it, for the parts that need no measurement."""
    report = dict(
        kind='train',
        config='x.py',
        batch_size=4,
        precision=precision,
        device=device,
        rounds=1,
        matmul_flops_per_s=5e11,
        machine=dict(device=device_name),
        **flop_ceiling(device, device_name, precision, 5e11))
    result = dict(
        images_per_s=2.0,
        seconds_per_step=[2.0],
        train_flops_per_image=7e10,
        processes=[dict(pid=11, seconds_per_step=[2.0])],
        peak_memory_bytes=2**30)
    peak = report['peak_flops_per_s']
    result['flop_utilization'] = 7e10 * 2.0 / peak if peak else None
    loop = dict(pid=12, steps=1, seconds=4 / loop_rate, images_per_s=loop_rate)
    loop.update(agreement(2.0, loop_rate, 0.2))
    result['standalone'] = loop
    report.update(results=dict(simmim_mm=result), check=dict(tolerance=0.2, agrees=loop['agrees']))
    return report


def test_a_disagreement_with_the_standalone_loop_is_flagged():
    assert agreement(1.21, 3.1, 0.2) == dict(ratio=pytest.approx(0.39, abs=0.01), agrees=False)
    assert agreement(3.0, 3.1, 0.2)['agrees'] and agreement(3.66, 3.1, 0.2)['agrees']
    text = markdown(fake_train_report(loop_rate=3.1))
    assert '**Check failed**: simmim_mm 0.65x its loop' in text
    assert '| 3.1 (disagrees) |' in text and '| 11 / 12 |' in text
    assert 'Check: every rate' in markdown(fake_train_report(loop_rate=2.1))


@pytest.mark.parametrize('name, precision, peak', [
    ('NVIDIA H100 80GB HBM3', 'bf16', 989e12),
    ('NVIDIA H100 80GB HBM3', 'fp16', 989e12),
    ('NVIDIA H200', 'bf16', 989e12),
    ('NVIDIA H100 PCIe', 'bf16', 756e12),
    ('NVIDIA A100-SXM4-80GB', 'fp32', 19.5e12),
    ('NVIDIA GeForce GTX 1080', 'bf16', None),
])
def test_gpu_flop_utilization_is_against_the_datasheet_peak(name, precision, peak):
    report = fake_train_report('cuda', name, precision)
    assert report['peak_flops_per_s'] == peak
    text = markdown(report)
    if peak is None:
        assert '| unknown |' in text and 'unknown: no datasheet peak for ' + name in text
    else:
        assert f'| {7e10 * 2 / peak:.0%} |' in text
        assert f'{peak / 1e12:.1f} TFLOP/s = datasheet dense {precision} peak of {name}' in text


def test_warmup_and_rounds_are_required(tiny_config):
    with pytest.raises(SystemExit, match='--warmup'):
        tool.main(['train', tiny_config, '--warmup', '0', '--trials', '1'])
    with pytest.raises(SystemExit, match='--rounds'):
        tool.main(['train', tiny_config, '--rounds', '0', '--trials', '1'])


def test_compare_refuses_an_encoder_mmpretrain_lacks(tmp_path):
    path = tmp_path / 'vit.py'
    path.write_text(f'_base_ = {VIT_B!r}\n')
    with pytest.raises(ValueError, match=r"model.backbone.type='SimMIMViT'"):
        tool.main(['train', str(path), '--compare', 'mmpretrain', '--trials', '1'])


def test_cpu_fp16_is_refused(tiny_config):
    with pytest.raises(ValueError, match='fp16'):
        tool.main(['train', tiny_config, '--precision', 'fp16', '--trials', '1'])


def test_data_report_generates_imagenet_like_jpegs(tiny_config, tmp_path):
    folder = tmp_path / 'jpegs'
    report = tool.main([
        'data', tiny_config, '--folder',
        str(folder), '--images', '6', '--trials', '1', '--compare', 'mmpretrain'
    ])
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == [f'{i:06d}.jpg' for i in range(6)]
    for file in files:
        with Image.open(file) as image:
            assert image.format == 'JPEG' and image.size in ((500, 375), (375, 500))
    for name in ('simmim_mm', 'mmpretrain'):
        result = report['results'][name]
        assert result['images_per_s'] > 0
        assert {'RandomResizedCrop', 'SimMIMMaskGenerator', 'collate'} <= set(result['stage_ms'])
    # a second run reuses the folder as it is; an unreadable file is skipped, not a crash
    (folder / 'truncated.jpg').write_bytes(files[0].read_bytes()[:100])
    again = tool.main(['data', tiny_config, '--folder', str(folder), '--trials', '1'])
    assert again['images'] == 7 and list(again['results']) == ['simmim_mm']


def test_data_report_measures_the_pillow_resize_it_replaces(tmp_path):
    config = tmp_path / 'torch_resize.py'
    config.write_text(
        TINY_64PX.replace("type='RandomResizedCrop'",
                          "type='TorchRandomResizedCrop'").replace("backend='pillow'",
                                                                   "backend='torch'"))
    out = tmp_path / 'data.json'
    report = tool.main([
        'data',
        str(config), '--folder',
        str(tmp_path / 'jpegs'), '--images', '4', '--trials', '2', '--out',
        str(out)
    ])
    ours, pillow = report['results']['simmim_mm'], report['results']['simmim_mm, pillow resize']
    assert report['speedup_over_pillow_resize'] == pytest.approx(ours['images_per_cpu_s'] /
                                                                 pillow['images_per_cpu_s'])
    for result in (ours, pillow):
        assert result['images_per_s'] > 0 and result['images_per_cpu_s'] > 0
        assert {'LoadImageFromFileOrSkip', 'TorchRandomResizedCrop',
                'collate'} <= set(result['stage_ms'])
    assert json.loads(out.read_text())['results'].keys() == report['results'].keys()
    text = markdown(report)
    assert '| simmim_mm, pillow resize |' in text and 'images/s per core (CPU time)' in text
    assert 'simmim_mm / simmim_mm, pillow resize: ' in text


def test_data_refuses_to_write_into_a_folder_without_jpegs(tiny_config, tmp_path):
    folder = tmp_path / 'my_pngs'
    folder.mkdir()
    (folder / 'scan.png').write_bytes(b'not touched')
    with pytest.raises(SystemExit, match='holds no JPEG files'):
        tool.main(['data', tiny_config, '--folder', str(folder), '--trials', '1'])
    assert [f.name for f in folder.iterdir()] == ['scan.png']


def test_data_report_reads_the_same_jpegs_from_shards(tiny_config, tmp_path):
    folder, shards = tmp_path / 'jpegs', tmp_path / 'shards'
    report = tool.main([
        'data', tiny_config, '--folder',
        str(folder), '--images', '5', '--shards',
        str(shards), '--trials', '1', '--compare', 'mmpretrain'
    ])
    # written once from the folder: the same bytes
    index = json.loads((shards / 'index.json').read_text())
    assert index['samples'] == 5
    assert list(report['results']) == ['simmim_mm', 'mmpretrain', 'simmim_mm, from shards']
    from_shards = report['results']['simmim_mm, from shards']
    assert from_shards['stage_ms']['read shards'] > 0
    assert 'read shards' not in report['results']['simmim_mm']['stage_ms']
    assert from_shards['images_per_s'] > 0
    text = markdown(report)
    assert f'and in shards in {shards}' in text and '| simmim_mm, from shards |' in text
    again = tool.main(
        ['data', tiny_config, '--folder',
         str(folder), '--shards',
         str(shards), '--trials', '1'])  # reuses the shards
    assert again['results']['simmim_mm, from shards']['images_per_s'] > 0


def test_epoch_hours_by_hand():
    # 100 epochs of 1,281,167 images at 1,000 images/s on each of 8 devices
    assert epoch_hours(1000.0, 8, 100) == pytest.approx(1281167 * 100 / 8000 / 3600)
    assert epoch_hours(1000.0, 8, 100) == pytest.approx(4.448, abs=1e-3)
