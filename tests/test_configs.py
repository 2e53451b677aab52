"""Every config builds; the pretraining configs carry the official code's values."""
import glob
import os.path as osp
import re
from collections import Counter

import pytest
import torch
import yaml
from mmengine.config import Config

from simmim_mm.registry import MODELS

from conftest import REPO_ROOT

CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p)


def load(name):
    return Config.fromfile(osp.join(REPO_ROOT, 'configs', name))


def test_configs_are_found():
    names = {osp.relpath(p, osp.join(REPO_ROOT, 'configs')) for p in CONFIGS}
    assert {
        'pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py',
        'pretrain/simmim_swin-base-w6_16xb128-amp-step-800e_in1k-192px.py',
        'pretrain/simmim_swin-large-w12_16xb128-amp-step-800e_in1k-192px.py',
        'demo/simmim_swin-demo_1xb8-800iter_photos-96px.py',
        'pretrain/simmim_swin-tiny-w6_16xb128-amp-coslr-100e_in1k-192px.py',
        'pretrain/simmim_swin-small-w6_16xb128-amp-coslr-100e_in1k-192px.py',
        'pretrain/simmim_swinv2-base-w12_16xb128-amp-step-800e_in1k-192px.py',
        'pretrain/simmim_vit-small-p16_16xb128-amp-step-800e_in1k-224px.py',
        'pretrain/simmim_vit-base-p16_16xb128-amp-step-800e_in1k-224px.py',
        'pretrain/simmim_vit-large-p16_16xb128-amp-step-800e_in1k-224px.py'
    } <= names


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, REPO_ROOT))
def test_custom_imports_start_with_simmim_mm(path):
    """mmdet's and mmseg's own tools import a config's custom_imports in order, and under
    transformers 5 only simmim_mm can import mmpretrain.models: it must come first (the
    clients themselves: tests/test_tools/test_openmmlab_clients.py)."""
    imports = Config.fromfile(path).get('custom_imports', {}).get('imports', [])
    assert imports and imports[0] == 'simmim_mm', imports


# One training step of every config, at its real size: tests/test_configs_real_size.py.
# Weight-decay groups against the official rule: tests/test_engine/test_official_param_groups.py.


def test_swin_b_100e_official_values():
    cfg = load('pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py')
    model = MODELS.build(cfg.model)
    assert round(sum(p.numel() for p in model.parameters()) / 1e6, 2) == 89.87
    assert model.neck.decoder[0].weight.shape == (32 * 32 * 3, 1024, 1, 1)
    backbone = cfg.model.backbone
    assert (backbone.arch, backbone.img_size, backbone.drop_path_rate) == ('base', 192, 0.0)
    assert backbone.stage_cfgs.block_cfgs.window_size == 6

    crop, flip, masking = cfg.train_pipeline[1:4]
    assert (crop.scale, crop.crop_ratio_range) == (192, (0.67, 1.0))
    assert crop.aspect_ratio_range == pytest.approx((3 / 4, 4 / 3))
    assert flip.prob == 0.5
    assert (masking.input_size, masking.mask_patch_size, masking.model_patch_size,
            masking.mask_ratio) == (192, 32, 4, 0.6)
    assert cfg.data_preprocessor.mean == [123.675, 116.28, 103.53]
    assert cfg.data_preprocessor.std == [58.395, 57.12, 57.375]

    optim = cfg.optim_wrapper
    assert optim.optimizer.type == 'AdamW'
    assert optim.optimizer.lr == pytest.approx(2e-4 * 2048 / 512)
    assert (optim.optimizer.betas, optim.optimizer.eps) == ((0.9, 0.999), 1e-8)
    assert optim.optimizer.weight_decay == 0.05
    assert optim.clip_grad.max_norm == 5.0
    assert cfg.train_dataloader.batch_size * 16 == cfg.auto_scale_lr.base_batch_size == 2048
    assert cfg.auto_scale_lr.enable
    warmup, cosine = cfg.param_scheduler
    assert (warmup.type, warmup.begin, warmup.end) == ('LinearLR', 0, 10)
    assert warmup.start_factor * 2e-4 == pytest.approx(1e-6)
    assert (cosine.begin, cosine.end, cosine.T_max) == (10, 100, 100)
    assert cosine.eta_min_ratio * 2e-4 == pytest.approx(1e-5)
    assert warmup.convert_to_iter_based and cosine.convert_to_iter_based
    assert cfg.train_cfg.max_epochs == 100


def test_800e_schedule_decays_at_epoch_700():
    cfg = load('pretrain/simmim_swin-base-w6_16xb128-amp-step-800e_in1k-192px.py')
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(1e-4 * 2048 / 512)
    warmup, step = cfg.param_scheduler
    assert warmup.start_factor * 1e-4 == pytest.approx(5e-7) and warmup.end == 10
    assert (step.type, step.milestones, step.gamma, step.begin) == ('MultiStepLR', [700], 0.1, 0)
    assert cfg.train_cfg.max_epochs == 800


def test_swin_l_windows_match_the_official_model():
    cfg = load('pretrain/simmim_swin-large-w12_16xb128-amp-step-800e_in1k-192px.py')
    model = MODELS.build(cfg.model)
    tables = {
        name.split('.')[1]: p.shape
        for name, p in model.backbone.named_parameters()
        if name.endswith('relative_position_bias_table')
    }
    # window 12 ((2*12-1)^2 rows) in stages 0-2; the 6x6 last stage uses window 6 (11^2)
    assert tables == {'0': (23 * 23, 6), '1': (23 * 23, 12), '2': (23 * 23, 24), '3': (11 * 11, 48)}
    assert model.neck.in_channels == 1536


def test_vit_b_matches_the_paper():
    cfg = load('pretrain/simmim_vit-base-p16_16xb128-amp-step-800e_in1k-224px.py')
    model = MODELS.build(cfg.model)
    backbone = model.backbone
    assert round(sum(p.numel() for p in backbone.parameters()) / 1e6, 2) == 85.67
    assert round(sum(p.numel() for p in model.parameters()) / 1e6, 2) == 86.26
    assert backbone.pos_embed is None  # no absolute position embedding
    assert backbone.rel_pos_bias.relative_position_bias_table.shape == (732, 12)
    assert all(layer.attn.q_bias is not None and layer.attn.qkv.bias is None
               for layer in backbone.layers)
    assert torch.all(backbone.layers[0].gamma_1 == 0.1)
    assert backbone.layers[-1].drop_path.drop_prob == pytest.approx(0.1)
    assert model.neck.decoder[0].weight.shape == (16 * 16 * 3, 768, 1, 1)
    masking = cfg.train_pipeline[3]
    assert (masking.input_size, masking.mask_patch_size, masking.model_patch_size) == (224, 32, 16)
    assert cfg.train_pipeline[1].scale == 224
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(1e-4 * 2048 / 512)
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.05
    assert cfg.optim_wrapper.clip_grad.max_norm == 5.0
    warmup, step = cfg.param_scheduler
    assert warmup.start_factor * 1e-4 == pytest.approx(5e-7) and warmup.end == 10
    assert (step.milestones, step.gamma) == ([700], 0.1)
    assert cfg.train_cfg.max_epochs == 800


def test_swinv2_b_uses_normalized_targets_and_official_windows():
    cfg = load('pretrain/simmim_swinv2-base-w12_16xb128-amp-step-800e_in1k-192px.py')
    assert cfg.model.head.norm_target_window == 47
    assert cfg.model.backbone.drop_path_rate == 0.1
    model = MODELS.build(cfg.model)
    assert [stage.blocks[0].attn.w_msa.window_size for stage in model.backbone.stages] == \
        [(12, 12), (12, 12), (12, 12), (6, 6)]
    assert cfg.train_cfg.max_epochs == 800
    swin_b = load('pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py')
    assert MODELS.build(swin_b.model).head.loss_module.norm_target_window is None


@pytest.mark.parametrize(
    'name,width', [('pretrain/simmim_swin-tiny-w6_16xb128-amp-coslr-100e_in1k-192px.py', 768),
                   ('pretrain/simmim_swin-small-w6_16xb128-amp-coslr-100e_in1k-192px.py', 768),
                   ('pretrain/simmim_vit-small-p16_16xb128-amp-step-800e_in1k-224px.py', 384),
                   ('pretrain/simmim_vit-large-p16_16xb128-amp-step-800e_in1k-224px.py', 1024)])
def test_sizes_change_only_the_architecture(name, width):
    cfg = load(name)
    base = load('pretrain/simmim_vit-base-p16_16xb128-amp-step-800e_in1k-224px.py' if 'ViT' in
                cfg.model.backbone.
                type else 'pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py')
    assert MODELS.build(cfg.model).neck.in_channels == width  # the decoder follows
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg', 'train_pipeline'):
        assert cfg[key] == base[key], key
    assert {k: v for k, v in cfg.model.backbone.items() if k != 'arch'} == \
        {k: v for k, v in base.model.backbone.items() if k != 'arch'}


# Names: docs/en/notes/naming.md. Tests read what a config is from its contents or from
# configs/metafile.yml, never from its file name; these check that the names follow the
# written pattern and agree with the contents.
WORD = r'[a-z0-9]+(?:-[a-z0-9]+)*'  # hyphenated words: swin-base-w6, mask-rcnn
TRAINING = r'(?P<gpus>\d+)xb(?P<batch>\d+)(?:-[a-z0-9]+)*?-(?:\d+(?:e|k|iter)|\d+x)'
PRETRAIN_INFO = r'[a-z]+-\d+e-pre'  # simmim-800e-pre, tinymim-300e-pre
NAME_PATTERNS = {
    # {algorithm}_{backbone}_{N}xb{B}-{tricks}-{schedule}_{dataset}-{res}px
    'pretrain': rf'[a-z]+_{WORD}_{TRAINING}_[a-z0-9]+-\d+px',
    # {backbone}_{pretrain-info}-pre_{N}xb{B}-{tricks}-{schedule}_{dataset}-{res}px
    'finetune': rf'{WORD}_{PRETRAIN_INFO}_{TRAINING}_[a-z0-9]+-\d+px',
    # {model}_{backbone}-{pretrain-info}-pre[_{neck}]_{N}xb{B}-{tricks}-{schedule}_{dataset}[-{res}]
    'downstream': rf'{WORD}_{WORD}-{PRETRAIN_INFO}(?:_{WORD})?_{TRAINING}_[a-z0-9]+(?:-\d+x\d+)?',
}
NAME_PATTERNS.update(demo=NAME_PATTERNS['pretrain'], distill=NAME_PATTERNS['pretrain'])
# a dataset's worked example (configs/elpv): its pretraining, its fine-tuning, and the same
# fine-tuning from scratch, named as mmpretrain names a classifier trained from scratch:
# {backbone}_{N}xb{B}-{tricks}-{schedule}_{dataset}-{res}px
WORKED_EXAMPLE_PATTERNS = (NAME_PATTERNS['pretrain'], NAME_PATTERNS['finetune'],
                           rf'{WORD}_{TRAINING}_[a-z0-9]+-\d+px')
ZOO_SOURCES = {
    'microsoft/SimMIM': 'official',
    'microsoft (Hugging Face)': 'hf',
    'OpenMMLab mmpretrain': 'mmpretrain'
}


def relative(path):
    return osp.relpath(path, osp.join(REPO_ROOT, 'configs'))


def metafile_models():
    with open(osp.join(REPO_ROOT, 'configs', 'metafile.yml')) as f:
        return yaml.safe_load(f)['Models']


@pytest.mark.parametrize('path', CONFIGS, ids=relative)
def test_config_name_follows_the_pattern_and_the_contents(path):
    folder, stem = relative(path).split('/')[0], osp.basename(path)[:-len('.py')]
    patterns = (NAME_PATTERNS[folder], ) if folder in NAME_PATTERNS else \
        WORKED_EXAMPLE_PATTERNS if folder == 'elpv' else ()
    assert patterns, f'{relative(path)}: configs live in {sorted(NAME_PATTERNS) + ["elpv"]}'
    match = next(filter(None, (re.fullmatch(p, stem) for p in patterns)), None)
    assert match, f'{relative(path)} does not follow docs/en/notes/naming.md'
    cfg = Config.fromfile(path, import_custom_modules=False)
    gpus, batch = int(match['gpus']), int(match['batch'])
    assert cfg.train_dataloader.batch_size == batch, 'the name says another batch per GPU'
    scaling = cfg.get('auto_scale_lr')
    if scaling and scaling.get('enable', True):  # the demo keeps the recipe's 2048, unused
        assert scaling.base_batch_size == gpus * batch, 'the name says another total batch'


def test_every_metafile_config_exists():
    for model in metafile_models():
        config = model.get('Config')
        if config and '::' not in config:
            assert osp.isfile(osp.join(REPO_ROOT, config)), (model['Name'], config)


def test_model_zoo_names_follow_the_rule():
    """A name is its config's stem; with `_{source}` when several published files load into
    that config, and always for a file with no config here (named by the recipe that trained
    it, in the same pattern)."""
    models = metafile_models()
    names = [m['Name'] for m in models]
    assert len(set(names)) == len(names)
    sharing = Counter(m.get('Config') for m in models)
    for model in models:
        config, name = model.get('Config'), model['Name']
        source = ZOO_SOURCES[model['Metadata']['Publisher']]
        if config and '::' not in config:
            stem = osp.basename(config)[:-len('.py')]
            expected = stem if sharing[config] == 1 else f'{stem}_{source}'
            assert name == expected, (name, expected)
        else:
            stem, _, suffix = name.rpartition('_')
            assert suffix == source, name
            assert any(
                re.fullmatch(NAME_PATTERNS[kind], stem) for kind in ('pretrain', 'finetune')), name
