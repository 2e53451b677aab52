"""Every transfer config through the client its users start: mmdet's and mmseg's own
tools/train.py and tools/test.py, and mmpretrain's own tools/train.py (from each package's
``.mim/tools``), on tiny datasets in each task's layout, from a SimMIM or student checkpoint
that the config loads strictly; and the demo through tools/dist_train.sh and tools/test.py.

Each run is a fresh interpreter that imports only what that client imports: nothing imports
simmim_mm first by hand, the config's ``custom_imports`` must. The mmdet and mmseg training
runs go under transformers 5 (.venv/transformers-5, beside .venv's transformers 4): there
``import mmpretrain.models`` before simmim_mm fails."""
import glob
import os
import os.path as osp
import re
import socket
import subprocess
import sys
from functools import lru_cache

import pytest
import torch
from mmengine.config import Config

from simmim_mm.checkpoint import load_checkpoint_file

from conftest import (
    REPO_ROOT,
    make_images,
    pretraining_config_of,
    save_backbone_checkpoint,
    transformers_5_python,
)
from dataset_layouts import (
    ade_folder,
    coco_folder,
    elpv_folder,
    imagenet_folder,
    is_prepared_split,
    tiny_data_options,
)

# the weight that the tests plant in each pretrained checkpoint and look for after training
PLANTED = 'backbone.patch_embed.projection.weight'

CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p)


@lru_cache(maxsize=None)
def task_of(path):
    """mmdet, mmseg or mmpretrain (an image classifier), by what the config builds."""
    cfg = Config.fromfile(path)
    if cfg.get('default_scope') in ('mmdet', 'mmseg'):
        return cfg.default_scope
    return 'mmpretrain' if cfg.model.type == 'ImageClassifier' else None


def configs_of(task):
    return [p for p in CONFIGS if task_of(p) == task]


def name(path):
    return osp.relpath(path, osp.join(REPO_ROOT, 'configs'))


def client_tool(package, tool):
    """``<package>/.mim/tools/<tool>``, the script OpenMMLab installs with each package."""
    import importlib.util
    spec = importlib.util.find_spec(package)
    path = osp.join(osp.dirname(spec.origin), '.mim', 'tools', tool)
    assert osp.isfile(path), f'{package} ships no {tool}'
    return path


def run(command, env=None, timeout=900):
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={
            **os.environ, 'OMP_NUM_THREADS': '2',
            **(env or {})
        },
        timeout=timeout)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


def cfg_options(options):
    """``--cfg-options`` arguments as a user types them (no spaces inside a value)."""
    return ['--cfg-options'] + [
        f'{k}={v}' if isinstance(v, str) else f'{k}={v!r}'.replace(' ', '')
        for k, v in options.items()
    ]


def one_step_options(cfg):
    """One iteration (one epoch of the one-image dataset), logged, checkpointed without the
    optimizer state."""
    by_epoch = 'max_epochs' in cfg.train_cfg
    return {
        f'train_cfg.max_{"epochs" if by_epoch else "iters"}': 1,
        **({} if by_epoch else {
               'train_cfg.val_interval': 1
           }), 'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint.interval': 1,
        'default_hooks.checkpoint.save_optimizer': False
    }


@pytest.fixture(scope='module')
def planted_checkpoint(tmp_path_factory):
    """A transfer config's pretraining checkpoint (SimMIM or student), once per
    architecture, with a patch embedding no initialisation would draw (N(0, 0.5))."""
    cache = {}

    def get(config):
        source = pretraining_config_of(config)
        if source not in cache:
            path = str(tmp_path_factory.mktemp('pretrained') / 'pretrained.pth')
            save_backbone_checkpoint(source, path)
            state = torch.load(path, weights_only=True)
            gen = torch.Generator().manual_seed(1)
            planted = torch.randn(state['state_dict'][PLANTED].shape, generator=gen) * 0.5
            state['state_dict'][PLANTED] = planted
            torch.save(state, path)
            cache[source] = path, planted
        return cache[source]

    return get


def assert_started_from(checkpoint, planted):
    """One step at a warm-up learning rate moves a weight by far less than 1e-2."""
    weights = load_checkpoint_file(checkpoint)['state_dict'][PLANTED]
    assert (weights - planted).abs().max() < 1e-2, 'the pretrained weights were not loaded'


def train_and_test(config, task, tmp_path, planted_checkpoint, make_data, metric):
    cfg = Config.fromfile(config)
    checkpoint, planted = planted_checkpoint(config)
    data = tiny_data_options(cfg, task, make_data(str(tmp_path / 'data')))
    work_dir = str(tmp_path / 'work')
    output = run([
        transformers_5_python() or sys.executable,
        client_tool(task, 'train.py'), config, '--work-dir', work_dir,
        *cfg_options({
            **data,
            **one_step_options(cfg), 'model.backbone.init_cfg.checkpoint': checkpoint
        })
    ])
    assert 'Loaded' in output and 'SimMIM encoder tensors' in output, output[-3000:]
    (trained, ) = glob.glob(osp.join(work_dir, '*_1.pth'))
    assert_started_from(trained, planted)

    output = run([
        sys.executable,
        client_tool(task, 'test.py'), config, trained, '--work-dir',
        str(tmp_path / 'test'), *cfg_options(data)
    ])
    # the test loop went through the whole test set, then its metric
    assert re.search(r'(Epoch|Iter)\(test\) \[(\d+)/\2\]', output), output[-3000:]
    assert re.search(metric, output), output[-3000:]


@pytest.mark.parametrize('config', configs_of('mmdet'), ids=name)
def test_mmdet_tools_train_and_test(config, tmp_path, planted_checkpoint):
    # a detector one step old scores every box below mmdet's 0.05: no box to score, which
    # mmdet's COCO metric reports (a threshold of 0 lets degenerate boxes crash mask pasting)
    train_and_test(config, 'mmdet', tmp_path, planted_checkpoint, coco_folder,
                   r'Evaluating bbox\.\.\.')


@pytest.mark.parametrize('config', configs_of('mmseg'), ids=name)
def test_mmseg_tools_train_and_test(config, tmp_path, planted_checkpoint):
    train_and_test(config, 'mmseg', tmp_path, planted_checkpoint, ade_folder, r'mIoU: \d')


@pytest.mark.parametrize('config', configs_of('mmpretrain'), ids=name)
def test_mmpretrain_tools_train(config, tmp_path, planted_checkpoint):
    """From the planted checkpoint; a config without init (a from-scratch baseline) from
    random weights. Each config's data in its own layout (ImageNet's, or a prepared split).
    A config without validation (the ELPV ones test the last epoch) is then tested by
    mmpretrain's tools/test.py."""
    cfg = Config.fromfile(config)
    layout = elpv_folder if is_prepared_split(cfg.train_dataloader.dataset) else imagenet_folder
    data = tiny_data_options(cfg, 'mmpretrain', layout(str(tmp_path / 'data')))
    pretrained = cfg.model.backbone.get('init_cfg') is not None
    if pretrained:
        checkpoint, planted = planted_checkpoint(config)
        data['model.backbone.init_cfg.checkpoint'] = checkpoint
    work_dir = str(tmp_path / 'work')
    output = run([
        sys.executable,
        client_tool('mmpretrain', 'train.py'), config, '--work-dir', work_dir, *cfg_options({
            **data,
            **one_step_options(cfg)
        })
    ])
    trained = osp.join(work_dir, 'epoch_1.pth')
    if pretrained:
        assert_started_from(trained, planted)
    if not cfg.get('val_dataloader'):
        output = run([
            sys.executable,
            client_tool('mmpretrain', 'test.py'), config, trained, '--work-dir',
            str(tmp_path / 'test'), *cfg_options(data)
        ])
    assert 'accuracy/top1' in output, output[-3000:]


DEMO = osp.join(REPO_ROOT, 'configs', 'demo', 'simmim_swin-demo_1xb8-800iter_photos-96px.py')
DEMO_VAL = osp.join(REPO_ROOT, 'configs', 'demo',
                    'simmim_swin-demo_1xb8-val-800iter_photos-96px.py')


def test_demo_through_dist_train_then_test(tmp_path):
    """`bash tools/dist_train.sh <demo config> 2` as Ways to run has it (2 CPU processes,
    torchrun, gloo), shortened by --cfg-options; then tools/test.py scores the checkpoint on
    the held-out photos of the demo's validation config."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    work_dir = str(tmp_path / 'work')
    output = run([
        'bash', 'tools/dist_train.sh',
        osp.relpath(DEMO, REPO_ROOT), '2', '--work-dir', work_dir, '--cfg-options',
        'train_cfg.max_iters=4', 'default_hooks.checkpoint.interval=4'
    ],
                 env=dict(PORT=str(port), PYTHON=sys.executable, OMP_NUM_THREADS='1'))
    assert 'Distributed training: True' in output
    checkpoint = osp.join(work_dir, 'iter_4.pth')
    assert osp.isfile(checkpoint)

    output = run([
        sys.executable, 'tools/test.py', DEMO_VAL, checkpoint, '--work-dir',
        str(tmp_path / 'test')
    ])
    assert re.search(r'reconstruction/error: \d', output), output[-3000:]


def test_train_py_starts_the_swin_b_100e_recipe(tmp_path):
    """`python tools/train.py configs/pretrain/simmim_swin-base-w6_...-100e_in1k-192px.py`
    trains the Swin-B 100e recipe: lr 2e-4 per 512 images, scaled to the total batch."""
    data = str(tmp_path / 'imagenet')
    make_images(osp.join(data, 'train'), count=2, size=(256, 320))
    work_dir = str(tmp_path / 'work')
    output = run([
        sys.executable, 'tools/train.py',
        'configs/pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py', '--work-dir',
        work_dir, *cfg_options({
            'train_dataloader.dataset.data_root': data,
            'train_dataloader.batch_size': 2,
            'train_dataloader.num_workers': 0,
            'train_dataloader.persistent_workers': False,
            'train_cfg.max_epochs': 1,
            'optim_wrapper.dtype': 'float32'
        })
    ])
    # 2e-4 x 2048 / 512 in the config, x 2 / 2048 for a total batch of 2
    assert re.search(r'Learning rate: lr 7\.8125e-07,', output), output[-3000:]
    state = load_checkpoint_file(osp.join(work_dir, 'epoch_1.pth'))['state_dict']
    assert state['backbone.patch_embed.projection.weight'].shape == (128, 3, 4, 4)  # Swin-B
    assert state['neck.decoder.0.weight'].shape == (32 * 32 * 3, 1024, 1, 1)
