"""Every checkpoint load path refuses a pickle that would run code, and the code does not run:
resume and load_from (tools/train.py; tools/test.py loads through the same Runner path) and
fine-tuning init. The converter and
the model zoo have their own tests in test_convert*.py / test_model_zoo.py."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from simmim_mm.registry import MODELS, WEIGHT_INITIALIZERS

from conftest import REPO_ROOT

DEMO = 'configs/demo/simmim_swin-demo_1xb8-800iter_photos-96px.py'


class _RunsCode:

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def plant(tmp_path):
    marker = tmp_path / 'payload-ran'
    path = tmp_path / 'hostile.pth'
    torch.save({'state_dict': {'backbone.x': torch.zeros(1)}, 'meta': _RunsCode(marker)}, path)
    return str(path), marker


@pytest.mark.parametrize('tool,args', [
    ('train.py', [DEMO, '--resume', '{ckpt}']),
    ('train.py', [DEMO, '--cfg-options', 'load_from={ckpt}']),
])
def test_tools_refuse_and_do_not_run_the_payload(tool, args, tmp_path):
    ckpt, marker = plant(tmp_path)
    result = subprocess.run([
        sys.executable,
        osp.join(REPO_ROOT, 'tools', tool), *[a.format(ckpt=ckpt) for a in args], '--work-dir',
        str(tmp_path / 'work'),
        *(['--cfg-options', 'train_cfg.max_iters=1'] if tool == 'train.py' else [])
    ],
                            capture_output=True,
                            text=True,
                            cwd=REPO_ROOT,
                            timeout=600)
    assert result.returncode != 0
    assert 'Weights only load failed' in result.stderr or 'UnpicklingError' in result.stderr, \
        result.stderr[-2000:]
    assert not marker.exists()


def test_finetuning_init_refuses_and_does_not_run_the_payload(tmp_path):
    ckpt, marker = plant(tmp_path)
    backbone = MODELS.build(
        dict(
            type='SwinTransformer',
            arch='tiny',
            img_size=64,
            stage_cfgs=dict(block_cfgs=dict(window_size=2))))
    init = WEIGHT_INITIALIZERS.build(dict(type='Pretrained', checkpoint=ckpt))
    with pytest.raises(Exception, match='Weights only load failed|weights_only'):
        init(backbone)
    assert not marker.exists()


def test_config_paths_are_not_shell_expanded(tmp_path):
    marker = tmp_path / 'expanded'
    result = subprocess.run([
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'train.py'), DEMO, '--work-dir',
        str(tmp_path / 'work'), '--cfg-options',
        f'train_dataloader.dataset.data_root=$(touch {marker})', 'train_cfg.max_iters=1'
    ],
                            capture_output=True,
                            text=True,
                            cwd=REPO_ROOT,
                            timeout=600)
    assert not marker.exists()
    assert result.returncode != 0  # no such folder: a plain path, never a command
