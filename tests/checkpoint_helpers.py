"""Tiny models and an independent official-layout writer for the conversion tests."""
import os
import os.path as osp
import re

import torch
import yaml
from mmengine.config import Config

from simmim_mm.registry import MODELS

TINY_SWIN = dict(embed_dims=16, depths=[2, 2, 2, 2], num_heads=[1, 1, 2, 2])
TINY_VIT = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)


def swin_config_text(windows=(2, 2, 2, 2)):
    stages = [dict(block_cfgs=dict(window_size=w)) for w in windows]
    return (f"model = dict(type='SimMIM', backbone=dict(type='SimMIMSwinTransformer', "
            f"arch={TINY_SWIN!r}, img_size=64, drop_path_rate=0.0, stage_cfgs={stages!r}), "
            "neck=dict(type='SimMIMDecoder', encoder_stride=32), "
            "head=dict(type='SimMIMReconstructionHead', criterion='L1'))\n")


def vit_config_text():
    return (f"model = dict(type='SimMIM', backbone=dict(type='SimMIMViT', arch={TINY_VIT!r}, "
            "img_size=32, patch_size=16, drop_path_rate=0.0), "
            "neck=dict(type='SimMIMDecoder', encoder_stride=16), "
            "head=dict(type='SimMIMReconstructionHead', criterion='L1'))\n")


def write_config(folder, name, text):
    path = osp.join(str(folder), name)
    with open(path, 'w') as f:
        f.write(text)
    return path


def write_model_index(folder, configs):
    """A model-index.yml in ``folder`` whose metafile names ``configs`` (paths relative to
    ``folder``), in that order, one model each; returns its path."""
    models = [dict(Name=f'model{i}', Config=c) for i, c in enumerate(configs)]
    with open(osp.join(str(folder), 'metafile.yml'), 'w') as f:
        yaml.safe_dump(dict(Models=models), f)
    index = osp.join(str(folder), 'model-index.yml')
    with open(index, 'w') as f:
        yaml.safe_dump(dict(Import=['metafile.yml']), f)
    return index


def build(config_path):
    model = MODELS.build(Config.fromfile(config_path).model)
    model.eval()
    return model


def randomize(module, seed=0):
    """Every parameter random (zero-initialised tables and mask tokens would hide mistakes)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
    return module


def random_mask(batch, h, w, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand(batch, h, w, generator=gen) < 0.6).float()


def _merge_to_official(t):
    """OpenMMLab channel-major 4C -> official group-major, written out longhand."""
    c = t.shape[-1] // 4
    by_position = t.reshape(*t.shape[:-1], c, 4)  # positions (0,0), (0,1), (1,0), (1,1)
    groups = [by_position[..., 0], by_position[..., 2], by_position[..., 1], by_position[..., 3]]
    return torch.cat(groups, -1)


def to_official(state_dict, prefix='encoder.'):
    """simmim_mm / mmpretrain names -> microsoft/SimMIM names (the inverse mapping, written
    independently of simmim_mm.checkpoint), including the buffers official files hold."""
    out = {}
    for key, value in state_dict.items():
        k = key
        if k.startswith('neck.'):
            out[k[len('neck.'):]] = value
            continue
        if k.startswith('head.fc.'):
            out['head.' + k[len('head.fc.'):]] = value
            continue
        k = k[len('backbone.'):]
        k = re.sub(r'^stages\.', 'layers.', k)
        k = k.replace('attn.w_msa.', 'attn.').replace('ffn.layers.0.0.', 'mlp.fc1.')
        k = k.replace('ffn.layers.1.', 'mlp.fc2.').replace('patch_embed.projection.',
                                                           'patch_embed.proj.')
        k = re.sub(r'^norm3\.', 'norm.', k)
        if k.startswith('layers.') and '.blocks.' not in k and '.downsample.' not in k:
            k = re.sub(r'^layers\.', 'blocks.', k)  # ViT
        if k.startswith('blocks.'):
            k = k.replace('.ln1.', '.norm1.').replace('.ln2.', '.norm2.')
        k = re.sub(r'^ln1\.', 'norm.', k)
        k = re.sub(r'^ln2\.', 'fc_norm.', k)
        if '.downsample.' in k:
            value = _merge_to_official(value)
        out[prefix + k] = value
    return out


def checkpoint_files(folder):
    """What a cache folder holds, sorted, less the (empty, hidden) lock files of downloads."""
    return sorted(name for name in os.listdir(folder) if not name.endswith('.lock'))
