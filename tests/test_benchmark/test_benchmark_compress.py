"""tools/benchmark.py compress on a tiny ViT distillation config: parameters and FLOPs are the
hand-counted ones, and the report holds a row per model (not how fast they are)."""
import importlib.util
import json
import os.path as osp

import pytest
import torch
from torch import nn

from simmim_mm.benchmark.inference import (
    EncoderSpec,
    build_encoder,
    count_parameters,
    deployed_encoder_cfg,
    forward_flops,
)
from simmim_mm.benchmark.train_step import load_config
from simmim_mm.registry import MODELS

from conftest import REPO_ROOT

spec = importlib.util.spec_from_file_location('benchmark_tool',
                                              osp.join(REPO_ROOT, 'tools', 'benchmark.py'))
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)

# widths D, blocks, MLP hidden H; 12 heads in the student's last block, as TinyMIM's
TEACHER = dict(embed_dims=16, num_layers=2, num_heads=2, feedforward_channels=32)
STUDENT = dict(embed_dims=8, num_layers=2, num_heads=1, feedforward_channels=16)
TINY_VIT_DISTILL = f"""
_base_ = {osp.join(REPO_ROOT, 'configs', 'distill',
                   'tinymim_vit-base-p16-to-vit-small-p16_32xb128-amp-300e_in1k-224px.py')!r}
model = dict(teacher=dict(arch=dict(_delete_=True, **{TEACHER!r}), img_size=32),
             backbone=dict(arch=dict(_delete_=True, **{STUDENT!r}), img_size=32,
                           layer_cfgs=[dict(), dict(num_heads=2)]))
"""


@pytest.fixture
def tiny_config(tmp_path):
    path = tmp_path / 'tiny_distill.py'
    path.write_text(TINY_VIT_DISTILL)
    return str(path)


def vit_forward_flops(arch: dict, image_size: int, patch: int = 16) -> int:
    """FLOPs (2 per multiply-add) of a ViT forward by formula: the patch conv, then per block
    the qkv, q k^T, attention x v, output projection and the two MLP layers."""
    dim, hidden = arch['embed_dims'], arch['feedforward_channels']
    patches = (image_size // patch)**2
    tokens = patches + 1  # the cls token
    patch_embed = 2 * patches * dim * 3 * patch * patch
    block = 2 * tokens * (dim * 3 * dim + dim * dim + 2 * dim * hidden) \
        + 2 * 2 * tokens * tokens * dim
    return patch_embed + arch['num_layers'] * block


def test_count_parameters_by_formula():
    model = nn.Sequential(nn.Conv2d(3, 4, 2), nn.Linear(5, 6, bias=False))
    model[0].requires_grad_(False)  # frozen weights are deployed too
    assert count_parameters(model) == (4 * 3 * 2 * 2 + 4) + 5 * 6


@pytest.mark.parametrize('image_size', [32, 64])
def test_forward_flops_by_formula(tiny_config, image_size):
    torch.manual_seed(0)
    for role, arch in (('teacher', TEACHER), ('student', STUDENT)):
        encoder = build_encoder(EncoderSpec(tiny_config, None, role, 'fp32', 1, 'cpu', image_size))
        images = torch.randn(2, 3, image_size, image_size)
        assert forward_flops(encoder, images) == vit_forward_flops(arch, image_size)


def test_deployed_student_runs_with_its_own_heads(tiny_config):
    """The distilled-only 12-head override (here 2) is dropped; parameters do not change."""
    cfg = load_config(tiny_config)
    deployed = deployed_encoder_cfg(cfg, 'student', 32)
    assert deployed['layer_cfgs'] == [dict(), dict()]
    distilled = MODELS.build(cfg.model.backbone)
    assert count_parameters(MODELS.build(deployed)) == count_parameters(distilled)


def test_swin_windows_tile_the_fine_tune_size():
    cfg = load_config(
        osp.join(REPO_ROOT, 'configs', 'distill',
                 'tinymim_swin-base-w6-to-swin-tiny-w6_32xb128-amp-300e_in1k-192px.py'))
    student = deployed_encoder_cfg(cfg, 'student', 224)
    assert student['stage_cfgs'][-1]['block_cfgs'] == [
        dict(window_size=7), dict(window_size=7, num_heads=32)
    ]
    assert deployed_encoder_cfg(cfg, 'teacher',
                                224)['stage_cfgs'] == dict(block_cfgs=dict(window_size=7))


def test_compress_report(tiny_config, tmp_path, capsys):
    out = tmp_path / 'compress.json'
    report = tool.main([
        'compress', tiny_config, '--image-size', '32', '--batch-size', '2', '--trials', '2',
        '--warmup', '1', '--rounds', '1', '--precision', 'fp32', '--device', 'cpu', '--threads',
        '1', '--out',
        str(out)
    ])
    saved = json.loads(out.read_text())
    assert saved['results'].keys() == {'teacher', 'student'} and saved['threads'] == 1
    cfg = load_config(tiny_config)
    for role, arch in (('teacher', TEACHER), ('student', STUDENT)):
        result = saved['results'][role]
        independent = MODELS.build(deployed_encoder_cfg(cfg, role, 32))
        assert result['parameters'] == sum(p.numel() for p in independent.parameters())
        assert result['flops_per_image'] == vit_forward_flops(arch, 32)
        assert len(result['processes']) == 1 and len(result['seconds_per_step']) == 2
        assert len(result['processes'][0]['cpu_seconds_per_step']) == 2
        assert result['threads'] == 1
        # batch 2 over the median of the 2 timed forwards (their mean)
        assert result['images_per_s'] == pytest.approx(2 / (sum(result['seconds_per_step']) / 2))
    teacher, student = saved['results']['teacher'], saved['results']['student']
    assert saved['teacher_over_student']['parameters'] == pytest.approx(
        teacher['parameters'] / student['parameters']) and teacher['parameters'] > \
        student['parameters']
    assert report['teacher_over_student'] == saved['teacher_over_student']
    printed = capsys.readouterr().out
    assert '| teacher | SimMIMViT' in printed and '| student | SimMIMViT' in printed
