"""Each pretraining config decays exactly the parameters that the official pretraining decays.

The official rule (microsoft/SimMIM and microsoft/Swin-Transformer, get_pretrain_param_groups,
built on the SimMIM wrapper): a parameter gets no weight decay if it is 1-D, or its name ends
in ``.bias``, or its name is in ``model.no_weight_decay()``, or one of
``model.no_weight_decay_keywords()`` is a substring of its name. The wrapper prefixes both
sets with ``encoder.``; that breaks the keywords, which then never match a block's parameter.

The official parameter names and shapes are written out below from the official module layouts
(not from our models), mapped to our names through our official-checkpoint converter (Swin,
ViT) or an explicit official SwinV2 -> mmpretrain table (our converter refuses official SwinV2
files), and the rule's verdict is compared with the param groups that each config's optim
wrapper builds.
"""
import glob
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from simmim_mm.checkpoint.conversion.official import convert_official_pretrained
from simmim_mm.registry import MODELS

from conftest import REPO_ROOT

PRETRAIN = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'pretrain', '*.py')))

SWIN_ARCHS = {  # embed dims, depths, heads
    'tiny': (96, (2, 2, 6, 2), (3, 6, 12, 24)),
    'small': (96, (2, 2, 18, 2), (3, 6, 12, 24)),
    'base': (128, (2, 2, 18, 2), (4, 8, 16, 32)),
    'large': (192, (2, 2, 18, 2), (6, 12, 24, 48)),
}
VIT_ARCHS = {  # embed dims, layers, heads (mlp ratio 4)
    'deit-small': (384, 12, 6),
    'base': (768, 12, 12),
    'large': (1024, 24, 16),
}

# The official sets, before the wrapper's prefix: SwinTransformerForSimMIM /
# SwinTransformerV2ForSimMIM add mask_token to their backbone's {'absolute_pos_embed'};
# the ViT (VisionTransformerForSimMIM) keeps its backbone's {'pos_embed', 'cls_token'}.
SWIN_SKIP = {'absolute_pos_embed', 'mask_token'}
SWIN_KEYWORDS = {'relative_position_bias_table'}
SWINV2_KEYWORDS = {'cpb_mlp', 'logit_scale', 'relative_position_bias_table'}
VIT_SKIP = {'pos_embed', 'cls_token'}


def official_no_decay(name, shape, skip, keywords):
    """get_pretrain_param_groups on the SimMIM wrapper, whose sets carry ``encoder.``."""
    skip = {'encoder.' + s for s in skip}
    keywords = {'encoder.' + k for k in keywords}
    return (len(shape) == 1 or name.endswith('.bias') or name in skip
            or any(k in name for k in keywords))


def official_swin(arch, img_size, window, v2=False):
    """Parameter names and shapes of the official SimMIM Swin (v2: SwinV2) at ``img_size``;
    each stage's window shrinks to its map when the map is not larger (official rule)."""
    dims, depths, heads = SWIN_ARCHS[arch]
    p = {
        'encoder.mask_token': (1, 1, dims),
        'encoder.patch_embed.proj.weight': (dims, 3, 4, 4),
        'encoder.patch_embed.proj.bias': (dims, ),
        'encoder.patch_embed.norm.weight': (dims, ),
        'encoder.patch_embed.norm.bias': (dims, )
    }
    for i, (depth, head) in enumerate(zip(depths, heads)):
        c, res = dims * 2**i, img_size // 4 // 2**i
        w = min(window, res)
        for j in range(depth):
            b = f'encoder.layers.{i}.blocks.{j}.'
            p.update({b + 'norm1.weight': (c, ), b + 'norm1.bias': (c, )})
            if v2:
                p.update({
                    b + 'attn.logit_scale': (head, 1, 1),
                    b + 'attn.cpb_mlp.0.weight': (512, 2),
                    b + 'attn.cpb_mlp.0.bias': (512, ),
                    b + 'attn.cpb_mlp.2.weight': (head, 512),  # bias=False
                    b + 'attn.qkv.weight': (3 * c, c),  # bias=False
                    b + 'attn.q_bias': (c, ),
                    b + 'attn.v_bias': (c, )
                })
            else:
                p.update({
                    b + 'attn.relative_position_bias_table': ((2 * w - 1)**2, head),
                    b + 'attn.qkv.weight': (3 * c, c),
                    b + 'attn.qkv.bias': (3 * c, )
                })
            p.update({
                b + 'attn.proj.weight': (c, c),
                b + 'attn.proj.bias': (c, ),
                b + 'norm2.weight': (c, ),
                b + 'norm2.bias': (c, ),
                b + 'mlp.fc1.weight': (4 * c, c),
                b + 'mlp.fc1.bias': (4 * c, ),
                b + 'mlp.fc2.weight': (c, 4 * c),
                b + 'mlp.fc2.bias': (c, )
            })
        if i < 3:  # PatchMerging: v1 norms the 4C input, v2 the 2C output
            d = f'encoder.layers.{i}.downsample.'
            norm = 2 * c if v2 else 4 * c
            p.update({
                d + 'reduction.weight': (2 * c, 4 * c),
                d + 'norm.weight': (norm, ),
                d + 'norm.bias': (norm, )
            })
    last = dims * 8
    p.update({
        'encoder.norm.weight': (last, ),
        'encoder.norm.bias': (last, ),
        'decoder.0.weight': (32 * 32 * 3, last, 1, 1),
        'decoder.0.bias': (32 * 32 * 3, )
    })
    return p


def official_vit(arch, img_size=224, patch=16):
    """The official SimMIM ViT (BEiT style): shared relative position bias, no abs pos embed."""
    dims, layers, heads = VIT_ARCHS[arch]
    grid = img_size // patch
    p = {
        'encoder.cls_token': (1, 1, dims),
        'encoder.mask_token': (1, 1, dims),
        'encoder.patch_embed.proj.weight': (dims, 3, patch, patch),
        'encoder.patch_embed.proj.bias': (dims, ),
        'encoder.rel_pos_bias.relative_position_bias_table': ((2 * grid - 1)**2 + 3, heads)
    }
    for i in range(layers):
        b = f'encoder.blocks.{i}.'
        p.update({
            b + 'gamma_1': (dims, ),
            b + 'gamma_2': (dims, ),
            b + 'norm1.weight': (dims, ),
            b + 'norm1.bias': (dims, ),
            b + 'attn.q_bias': (dims, ),
            b + 'attn.v_bias': (dims, ),
            b + 'attn.qkv.weight': (3 * dims, dims),
            b + 'attn.proj.weight': (dims, dims),
            b + 'attn.proj.bias': (dims, ),
            b + 'norm2.weight': (dims, ),
            b + 'norm2.bias': (dims, ),
            b + 'mlp.fc1.weight': (4 * dims, dims),
            b + 'mlp.fc1.bias': (4 * dims, ),
            b + 'mlp.fc2.weight': (dims, 4 * dims),
            b + 'mlp.fc2.bias': (dims, )
        })
    p.update({
        'encoder.norm.weight': (dims, ),
        'encoder.norm.bias': (dims, ),
        'decoder.0.weight': (patch * patch * 3, dims, 1, 1),
        'decoder.0.bias': (patch * patch * 3, )
    })
    return p


def through_converter(official):
    """official name -> our name, by our converter: each tensor is a constant (its index),
    expanded without memory, so a renamed (and channel-reordered) tensor still names its
    source."""
    names = list(official)
    state = {n: torch.tensor(float(i)).expand(official[n]) for i, n in enumerate(names)}
    converted = convert_official_pretrained({'model': state}, 'official layout')
    mapping = {}
    for ours, value in converted.items():
        assert tuple(value.shape) == official[names[int(value.flatten()[0])]], ours
        mapping[names[int(value.flatten()[0])]] = ours
    return mapping


# Official SwinV2 (microsoft/Swin-Transformer) -> mmpretrain SwinTransformerV2 names: our
# converter refuses official SwinV2 files, so the test carries its own table. mmpretrain puts
# each PatchMerging at the start of the next stage.
SWINV2_RULES = [
    (r'encoder\.mask_token', r'backbone.mask_token'),
    (r'encoder\.patch_embed\.proj\.(.*)', r'backbone.patch_embed.projection.\1'),
    (r'encoder\.patch_embed\.norm\.(.*)', r'backbone.patch_embed.norm.\1'),
    (r'encoder\.layers\.(\d+)\.blocks\.(\d+)\.attn\.(.*)',
     r'backbone.stages.\1.blocks.\2.attn.w_msa.\3'),
    (r'encoder\.layers\.(\d+)\.blocks\.(\d+)\.(norm1|norm2)\.(.*)',
     r'backbone.stages.\1.blocks.\2.\3.\4'),
    (r'encoder\.layers\.(\d+)\.blocks\.(\d+)\.mlp\.fc1\.(.*)',
     r'backbone.stages.\1.blocks.\2.ffn.layers.0.0.\3'),
    (r'encoder\.layers\.(\d+)\.blocks\.(\d+)\.mlp\.fc2\.(.*)',
     r'backbone.stages.\1.blocks.\2.ffn.layers.1.\3'),
    (r'encoder\.norm\.(.*)', r'backbone.norm3.\1'),
    (r'decoder\.0\.(.*)', r'neck.decoder.0.\1'),
]


def swinv2_mapping(official):
    mapping = {}
    for name in official:
        down = re.fullmatch(r'encoder\.layers\.(\d+)\.downsample\.(.*)', name)
        if down:
            mapping[name] = f'backbone.stages.{int(down[1]) + 1}.downsample.{down[2]}'
            continue
        pattern, repl = next(r for r in SWINV2_RULES if re.fullmatch(r[0], name))
        mapping[name] = re.sub(pattern, repl, name)
    return mapping


def official_groups(cfg):
    """{our name: decayed?} as the official pretraining decides, for the config's model."""
    backbone = cfg.model.backbone
    if backbone.type == 'SimMIMViT':
        official = official_vit(backbone.arch, backbone.img_size, backbone.patch_size)
        skip, keywords, mapping = VIT_SKIP, set(), through_converter(official)
    elif backbone.type == 'SimMIMSwinTransformerV2':
        windows = set(backbone.window_size)
        official = official_swin(backbone.arch, backbone.img_size, max(windows), v2=True)
        skip, keywords, mapping = SWIN_SKIP, SWINV2_KEYWORDS, swinv2_mapping(official)
    else:
        stages = backbone.stage_cfgs
        window = (
            stages.block_cfgs.window_size if isinstance(stages, dict) else max(
                s.block_cfgs.window_size for s in stages))
        official = official_swin(backbone.arch, backbone.img_size, window)
        skip, keywords, mapping = SWIN_SKIP, SWIN_KEYWORDS, through_converter(official)
    return {
        mapping[n]: not official_no_decay(n, s, skip, keywords)
        for n, s in official.items()
    }, {
        mapping[n]: s
        for n, s in official.items()
    }


@pytest.mark.parametrize('path', PRETRAIN, ids=osp.basename)
def test_pretraining_config_decays_what_the_official_code_decays(path):
    cfg = Config.fromfile(path)
    expected, shapes = official_groups(cfg)
    model = MODELS.build(cfg.model)
    ours = dict(model.named_parameters())
    # the official layout, mapped, is exactly our model: names and shapes
    assert sorted(ours) == sorted(expected)
    assert {n: tuple(p.shape) for n, p in ours.items()} == shapes

    cfg.optim_wrapper.dtype = 'float32'
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    base_wd = cfg.optim_wrapper.optimizer.weight_decay
    decay_of = {
        id(p): g['weight_decay']
        for g in wrapper.optimizer.param_groups
        for p in g['params']
    }
    assert len(decay_of) == len(ours)
    wrong = [(n, decay_of[id(p)]) for n, p in ours.items()
             if decay_of[id(p)] != (base_wd if expected[n] else 0.0)]
    assert not wrong, wrong

    # the quirks the configs' comments describe
    decayed = {n for n, d in expected.items() if d}
    tables = [n for n in ours if 'relative_position_bias_table' in n]
    assert set(tables) <= decayed
    if cfg.model.backbone.type == 'SimMIMViT':
        assert 'backbone.mask_token' in decayed and 'backbone.cls_token' not in decayed
        assert 'backbone.layers.0.gamma_1' not in decayed
    else:
        assert 'backbone.mask_token' not in decayed
    if cfg.model.backbone.type == 'SimMIMSwinTransformerV2':
        attn = 'backbone.stages.0.blocks.0.attn.w_msa.'
        assert {attn + 'logit_scale', attn + 'cpb_mlp.0.weight',
                attn + 'cpb_mlp.2.weight'} <= decayed
        assert attn + 'cpb_mlp.0.bias' not in decayed
    del model, wrapper


def test_official_rule_and_layout_on_known_names():
    """The rule itself, on parameter names of the official Swin-B."""
    swin = official_swin('base', 192, 6)
    assert swin['encoder.layers.3.blocks.1.attn.relative_position_bias_table'] == (121, 32)
    assert not official_no_decay('encoder.layers.0.blocks.0.attn.relative_position_bias_table',
                                 (121, 4), SWIN_SKIP, SWIN_KEYWORDS)
    assert official_no_decay('encoder.mask_token', (1, 1, 128), SWIN_SKIP, SWIN_KEYWORDS)
    # without the prefix (fine-tuning builds its groups on the bare encoder) the keyword works
    assert any(k in 'layers.0.blocks.0.attn.relative_position_bias_table' for k in SWIN_KEYWORDS)
    assert not official_no_decay('encoder.mask_token', (1, 1, 768), VIT_SKIP, set())
    assert official_no_decay('encoder.cls_token', (1, 1, 768), VIT_SKIP, set())
    large = official_swin('large', 192, 12)
    assert [
        large[f'encoder.layers.{i}.blocks.0.attn.relative_position_bias_table'][0] for i in range(4)
    ] == [529, 529, 529, 121]
    assert round(sum(torch.Size(s).numel() for s in swin.values()) / 1e6, 2) == 89.87
