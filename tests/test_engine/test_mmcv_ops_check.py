"""A detection run on a GPU whose mmcv ops have no CUDA kernels stops before it starts, with
the fix in the message (not in its first iteration, inside RoIAlign)."""
import os.path as osp
import sys
import types

import pytest
import torch
from mmengine.config import Config

from simmim_mm.engine.mmcv_ops_check import check_mmcv_ops, mmcv_cuda_ops_problem

from conftest import REPO_ROOT

MASK_RCNN = osp.join(REPO_ROOT, 'configs', 'downstream', 'mmdet',
                     'mask-rcnn_swin-base-w7-simmim-100e-pre_fpn_8xb2-1x_coco.py')
UPERNET = osp.join(REPO_ROOT, 'configs', 'downstream', 'mmseg',
                   'upernet_swin-base-w7-simmim-100e-pre_8xb2-160k_ade20k-512x512.py')
PRETRAIN = osp.join(REPO_ROOT, 'configs', 'pretrain',
                    'simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py')


def fake_mmcv_ops(monkeypatch, compiled_with):
    """Stand in for ``mmcv.ops`` as a build reports its kernels: compiled with a CUDA version
    ('12.1'), without CUDA ('not available', what mmcv prints then), or no ops at all (None:
    mmcv-lite, or a build whose ``mmcv._ext`` is missing; importing ``mmcv.ops`` fails)."""
    if compiled_with is None:
        monkeypatch.setitem(sys.modules, 'mmcv.ops', None)  # import mmcv.ops raises
        return
    ops = types.ModuleType('mmcv.ops')
    ops.get_compiling_cuda_version = lambda: compiled_with
    monkeypatch.setitem(sys.modules, 'mmcv.ops', ops)


def on_a_gpu(monkeypatch, available=True):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: available)


def test_ops_with_cuda_kernels_pass(monkeypatch):
    fake_mmcv_ops(monkeypatch, '12.1')
    on_a_gpu(monkeypatch)
    assert mmcv_cuda_ops_problem() is None
    check_mmcv_ops(Config.fromfile(MASK_RCNN))


@pytest.mark.parametrize('compiled_with,problem', [
    ('not available', "mmcv's ops were compiled without CUDA"),
    (None, 'mmcv has no compiled ops'),
])
def test_mask_rcnn_on_a_gpu_without_cuda_ops_stops_at_start(monkeypatch, compiled_with, problem):
    fake_mmcv_ops(monkeypatch, compiled_with)
    on_a_gpu(monkeypatch)
    with pytest.raises(RuntimeError) as error:
        check_mmcv_ops(Config.fromfile(MASK_RCNN))
    message = str(error.value)
    assert message.startswith(MASK_RCNN + ': this mmdet model runs mmcv ops (RoIAlign, NMS) '
                              'on the GPU, but ' + problem)
    assert 'MMCV_CUDA=1 bash tools/build_mmcv.sh --install' in message


@pytest.mark.parametrize('config', [UPERNET, PRETRAIN])
def test_runs_without_mmcv_ops_on_the_gpu_are_not_stopped(monkeypatch, config):
    fake_mmcv_ops(monkeypatch, 'not available')
    on_a_gpu(monkeypatch)
    check_mmcv_ops(Config.fromfile(config))


def test_cpu_runs_are_not_stopped(monkeypatch):
    fake_mmcv_ops(monkeypatch, 'not available')
    on_a_gpu(monkeypatch, available=False)
    check_mmcv_ops(Config.fromfile(MASK_RCNN))


def test_train_tool_checks_before_building_the_runner(monkeypatch, tmp_path):
    """tools/train.py on the Mask R-CNN config, as on a GPU node with a CPU-only mmcv."""
    import importlib.util
    spec = importlib.util.spec_from_file_location('train_tool',
                                                  osp.join(REPO_ROOT, 'tools', 'train.py'))
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    fake_mmcv_ops(monkeypatch, 'not available')
    on_a_gpu(monkeypatch)
    built = []
    monkeypatch.setattr(train.Runner, 'from_cfg', lambda cfg: built.append(cfg))
    with pytest.raises(RuntimeError, match='tools/build_mmcv.sh'):
        train.main([MASK_RCNN, '--work-dir', str(tmp_path)])
    assert not built
