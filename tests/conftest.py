import gc
import glob
import os
import os.path as osp
import sys
from functools import lru_cache
from typing import Optional

import numpy as np
import pytest
import torch
import yaml
from mmengine.registry import DefaultScope
from PIL import Image

import simmim_mm  # noqa: F401

# Asked once, before any test hides the GPUs: the CUDA runtime fixes its device list at its
# first query, so tests/test_cuda still sees them when `cpu_only` has hidden them from
# subprocesses.
HAS_CUDA = torch.cuda.is_available()

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def encoder_signature(backbone: dict) -> tuple:
    """What a checkpoint's encoder must share with ``backbone`` to load into it: the family
    (ViT, Swin or Swin V2, from the type), the arch, any per-block head counts (a Swin
    relative position table has a column per head) and the input channels."""
    kind = backbone['type'].rpartition('.')[-1]
    family = 'vit' if 'ViT' in kind else 'swinv2' if 'V2' in kind else 'swin'

    def heads(value):
        if isinstance(value, dict):
            own = [value['num_heads']] if 'num_heads' in value else []
            return own + [h for v in value.values() for h in heads(v)]
        if isinstance(value, (list, tuple)):
            return [h for v in value for h in heads(v)]
        return []

    return (family, repr(backbone.get('arch')), tuple(heads(backbone.get('stage_cfgs'))),
            backbone.get('in_channels', 3))


@lru_cache(maxsize=None)
def pretraining_sources() -> tuple:
    """(signature, config relative to configs/) of every encoder a transfer config can start
    from: the metafile's pretraining configs, fewest epochs first, then the distillation
    configs (their student)."""
    from mmengine.config import Config
    with open(osp.join(REPO_ROOT, 'configs', 'metafile.yml')) as f:
        listed = {m.get('Config') for m in yaml.safe_load(f)['Models']}
    pretrain = [c[len('configs/'):] for c in listed if c and c.startswith('configs/pretrain/')]
    # worked examples' pretraining on their own data (no published checkpoint)
    pretrain += [
        osp.relpath(p, osp.join(REPO_ROOT, 'configs'))
        for p in sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'elpv', 'simmim_*.py')))
    ]
    distill = [
        osp.relpath(p, osp.join(REPO_ROOT, 'configs'))
        for p in sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'distill', '*.py')))
    ]
    sources = []
    for name in pretrain + distill:
        cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', name), import_custom_modules=False)
        sources.append((cfg.train_cfg.get('max_epochs',
                                          0), name, encoder_signature(cfg.model.backbone)))
    pretrain_first = sorted(sources[:len(pretrain)]) + sources[len(pretrain):]
    return tuple((signature, name) for _, name, signature in pretrain_first)


def pretraining_config_of(transfer_config: str) -> str:
    """The pretraining or distillation config (relative to configs/) whose checkpoint a
    fine-tuning, detection or segmentation config starts from, found by what the config
    builds (its backbone's family, arch and head counts), never by its file name."""
    from mmengine.config import Config
    backbone = Config.fromfile(transfer_config, import_custom_modules=False).model.backbone
    wanted = encoder_signature(backbone)
    found = [name for signature, name in pretraining_sources() if signature == wanted]
    assert found, f'no pretraining config builds the encoder of {transfer_config}: {wanted}'
    return found[0]


def save_backbone_checkpoint(config: str, path: str, part: str = 'backbone') -> dict:
    """Save the backbone of the model that ``config`` (relative to configs/) builds as a
    SimMIM pretraining checkpoint (``state_dict`` of ``backbone.*``): a distillation's
    student, or with ``part='teacher'`` its teacher. Relative position tables are random, so
    that resizing them shows. Returns the saved state without the prefix."""
    from mmengine.config import Config

    from simmim_mm.registry import MODELS
    model = MODELS.build(Config.fromfile(osp.join(REPO_ROOT, 'configs', config)).model)
    if part == 'teacher':
        model = torch.nn.ModuleDict(dict(backbone=model.teacher))
    gen = torch.Generator().manual_seed(0)
    state = {}
    for key, value in model.state_dict().items():
        if not key.startswith('backbone.'):
            continue
        if key.endswith('relative_position_bias_table'):
            value = torch.randn(value.shape, generator=gen) * 0.02
        state[key[len('backbone.'):]] = value
    torch.save({'state_dict': {'backbone.' + k: v for k, v in state.items()}}, path)
    del model
    gc.collect()
    return state


def transformers_5_python():
    """An interpreter that sees transformers >= 5: this one where it does, else that of
    .venv/transformers-5, the environment that make setup adds beside .venv (.venv's packages
    plus transformers 5; tools/setup_env.sh); None where neither is there."""
    from simmim_mm.compat.transformers import transformers_version
    if (transformers_version() or (0, )) >= (5, ):
        return sys.executable
    python = osp.join(sys.prefix, 'transformers-5', 'bin', 'python')
    return python if osp.isfile(python) else None


# Config lines that shrink the demo's Swin to a 64 px, one-block-per-stage model for tests.
TINY_DEMO_MODEL = """model = dict(backbone=dict(img_size=64, arch=dict(_delete_=True, embed_dims=16,
             depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2]),
             stage_cfgs=dict(_delete_=True, block_cfgs=dict(window_size=2))))"""

# Config lines for tests that compare numbers: train in fp32 on every CPU. The configs' default
# autocasts to bf16 where the CPU has native bf16 (AVX-512 BF16, AMX) and not elsewhere.
FP32 = "optim_wrapper = dict(dtype='float32')"

# The demo's training pipeline for TINY_DEMO_MODEL: 64 px crops, masks of 16 px blocks.
TINY_TRAIN_PIPELINE = """[
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.67, 1.0)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='SimMIMMaskGenerator', input_size=64, mask_patch_size=16, model_patch_size=4),
    dict(type='PackInputs'),
]"""
DEMO_CONFIG = osp.join(REPO_ROOT, 'configs', 'demo', 'simmim_swin-demo_1xb8-800iter_photos-96px.py')
CONSTANT_LR = "[dict(type='ConstantLR', factor=1.0, by_epoch=False)]"


def demo_config(data_root: Optional[str],
                max_iters: Optional[int] = None,
                *,
                train_cfg: Optional[str] = None,
                base: str = DEMO_CONFIG,
                tiny_model: bool = True,
                batch_size: int = 2,
                num_workers: int = 0,
                pipeline: str = '{{_base_.train_pipeline}}',
                param_scheduler: Optional[str] = CONSTANT_LR,
                checkpoint_interval: int = 100,
                log_interval: Optional[int] = 1,
                custom_hooks: Optional[str] = '[]',
                before: str = '',
                after: str = '') -> str:
    """The text of a short run of the demo config (or ``base``) on the images under
    ``data_root`` (None: the base's dataset, with ``pipeline``), logged every
    ``log_interval`` iterations (None: the base's interval).

    ``tiny_model`` shrinks the Swin to 64 px (TINY_DEMO_MODEL), so the pipeline must then give
    64 px images. ``train_cfg`` (text) replaces ``dict(max_iters=max_iters)``;
    ``param_scheduler`` and ``custom_hooks`` (text) default to a constant lr and no hooks, None
    keeps the base's. ``before`` goes ahead of the data loader (the pipelines it names, the
    model), ``after`` at the end (the test's own settings)."""
    if data_root is None:
        dataset = f'dict(pipeline={pipeline})'
    else:
        dataset = (f"dict(_delete_=True, type='CustomDataset', data_root={data_root!r},\n"
                   f'                 with_label=False, pipeline={pipeline})')
    lines = [
        f'_base_ = {base!r}', TINY_DEMO_MODEL if tiny_model else '', before,
        'train_dataloader = dict(\n'
        f'    batch_size={batch_size}, num_workers={num_workers}, '
        f'persistent_workers={num_workers > 0},\n'
        f'    dataset={dataset})',
        '' if param_scheduler is None else f'param_scheduler = {param_scheduler}',
        f'train_cfg = {train_cfg or f"dict(max_iters={max_iters})"}', 'default_hooks = dict(' +
        ('' if log_interval is None else f'logger=dict(interval={log_interval}), ') +
        f'checkpoint=dict(interval={checkpoint_interval}))',
        '' if custom_hooks is None else f'custom_hooks = {custom_hooks}', after
    ]
    return '\n'.join(line for line in lines if line) + '\n'


def pytest_configure(config):
    config.addinivalue_line('markers', 'cuda: runs on the GPU; cpu_only leaves the GPUs visible')


@pytest.fixture(autouse=True)
def cpu_only(monkeypatch, request):
    """Tests run on the CPU, also on a CUDA host (tests/test_cuda overrides this, and a test
    marked ``cuda`` is left alone): MMEngine picks its device once, at import, and subprocesses
    inherit CUDA_VISIBLE_DEVICES."""
    if request.node.get_closest_marker('cuda'):
        return
    import mmengine.device.utils
    monkeypatch.setattr(mmengine.device.utils, 'DEVICE', 'cpu')
    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '')


@pytest.fixture(autouse=True)
def simmim_scope():
    """Build from the simmim_mm registries as the Runner does with default_scope."""
    name = f'test-{id(object())}'
    scope = DefaultScope.get_instance(name, scope_name='simmim_mm')
    yield scope
    DefaultScope._instance_dict.pop(name, None)


def make_images(folder, count=6, size=(224, 256), channels=3, seed=0):
    """Smooth synthetic photos (gradients and discs) in nested folders, as PNG files."""
    rng = np.random.default_rng(seed)
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w]
    paths = []
    for i in range(count):
        img = np.zeros((h, w, channels), dtype=np.float32)
        for c in range(channels):
            a, b = rng.uniform(-1, 1, size=2)
            img[..., c] = 128 + 60 * (a * xx / w + b * yy / h)
        cy, cx, r = rng.integers(40, h - 40), rng.integers(40, w - 40), rng.integers(15, 40)
        img[(yy - cy)**2 + (xx - cx)**2 < r**2] = rng.uniform(0, 255, size=channels)
        sub = osp.join(str(folder), f'class{i % 2}')
        os.makedirs(sub, exist_ok=True)
        path = osp.join(sub, f'img{i}.png')
        arr = np.clip(img, 0, 255).astype(np.uint8)
        Image.fromarray(arr[..., 0] if channels == 1 else arr).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def image_folder(tmp_path):
    root = tmp_path / 'images'
    make_images(root)
    return str(root)
