"""A detection run on a GPU whose mmcv ops have no CUDA kernels stops before it starts, with
the fix in the message (not in its first iteration, inside RoIAlign)."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from simmim_mm.engine import mmcv_ops_check
from simmim_mm.engine.mmcv_ops_check import check_mmcv_ops, mmcv_cuda_ops_problem

from conftest import REPO_ROOT

MASK_RCNN = osp.join(REPO_ROOT, 'configs', 'downstream', 'mmdet',
                     'mask-rcnn_simmim-swin-b_fpn_1x_coco.py')
UPERNET = osp.join(REPO_ROOT, 'configs', 'downstream', 'mmseg',
                   'upernet_simmim-swin-b_8xb2-160k_ade20k-512x512.py')
PRETRAIN = osp.join(REPO_ROOT, 'configs', 'pretrain',
                    'simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py')


def test_this_mmcv_reports_its_cuda_kernels():
    """The real mmcv of this environment: its compiled ops say whether they carry CUDA."""
    from mmcv.ops import get_compiling_cuda_version
    built_with_cuda = get_compiling_cuda_version() != 'not available'
    assert (mmcv_cuda_ops_problem() is None) == built_with_cuda


def test_mask_rcnn_on_a_gpu_without_cuda_ops_stops_at_start(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(mmcv_ops_check, 'mmcv_cuda_ops_problem',
                        lambda: "mmcv's ops were compiled without CUDA")
    with pytest.raises(RuntimeError, match='compiled without CUDA') as error:
        check_mmcv_ops(Config.fromfile(MASK_RCNN))
    assert 'tools/build_mmcv.sh' in str(error.value) and 'MMCV_CUDA=1' in str(error.value)
    assert 'mask-rcnn_simmim-swin-b_fpn_1x_coco.py' in str(error.value)


@pytest.mark.parametrize('config', [UPERNET, PRETRAIN])
def test_runs_without_mmcv_ops_on_the_gpu_are_not_stopped(monkeypatch, config):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(mmcv_ops_check, 'mmcv_cuda_ops_problem', lambda: 'no CUDA kernels')
    check_mmcv_ops(Config.fromfile(config))


def test_cpu_runs_are_not_stopped(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(mmcv_ops_check, 'mmcv_cuda_ops_problem', lambda: 'no CUDA kernels')
    check_mmcv_ops(Config.fromfile(MASK_RCNN))


def test_train_tool_checks_before_building_the_runner(monkeypatch, tmp_path):
    """tools/train.py on the Mask R-CNN config, as on a GPU node with a CPU-only mmcv."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'train_tool', osp.join(REPO_ROOT, 'tools', 'train.py'))
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(mmcv_ops_check, 'mmcv_cuda_ops_problem',
                        lambda: "mmcv's ops were compiled without CUDA")
    built = []
    monkeypatch.setattr(train.Runner, 'from_cfg', lambda cfg: built.append(cfg))
    with pytest.raises(RuntimeError, match='tools/build_mmcv.sh'):
        train.main([MASK_RCNN, '--work-dir', str(tmp_path)])
    assert not built
