"""Hugging Face ``SwinForMaskedImageModeling`` checkpoints -> simmim_mm.

HF names are first brought to the official layout (q/k/v fused into qkv), then converted as
official ones, so the PatchMerging reorder lives in one place. Both naming generations are
read: transformers 4.x (``attention.self.query``, ``intermediate.dense``) and 5.x
(``attention.q_proj``, ``mlp.fc1``), which renames keys when it loads old files.

``ViTForMaskedImageModeling`` is refused: it is a plain ViT (absolute position embedding, a
key bias, no layer scale, no relative position bias), not the paper's BEiT-style ViT, and
SimMIMViT has no absolute position embedding to put its weights in.
"""
from typing import Dict

import torch
from torch import Tensor

from ..errors import CheckpointError
from .key_mapping import DERIVED_BUFFERS, preview, rename_keys
from .official import convert_official_pretrained

_BLOCK = r'swin\.encoder\.layers\.(\d+)\.blocks\.(\d+)\.'
_OFFICIAL = r'encoder.layers.\1.blocks.\2.'
HF_SWIN_RULES = [
    (DERIVED_BUFFERS, None),
    (r'swin\.embeddings\.mask_token', r'encoder.mask_token'),
    (r'swin\.embeddings\.patch_embeddings\.projection\.(weight|bias)',
     r'encoder.patch_embed.proj.\1'),
    (r'swin\.embeddings\.norm\.(weight|bias)', r'encoder.patch_embed.norm.\1'),
    (_BLOCK + r'layernorm_before\.(weight|bias)', _OFFICIAL + r'norm1.\3'),
    (_BLOCK + r'layernorm_after\.(weight|bias)', _OFFICIAL + r'norm2.\3'),
    (_BLOCK + r'attention\.(?:self\.|relative_position_bias\.)relative_position_bias_table',
     _OFFICIAL + r'attn.relative_position_bias_table'),
    (_BLOCK + r'attention\.self\.(query|key|value)\.(weight|bias)', _OFFICIAL + r'attn.\3.\4'),
    (_BLOCK + r'attention\.(q|k|v)_proj\.(weight|bias)', _OFFICIAL + r'attn.\3.\4'),
    (_BLOCK + r'attention\.(?:output\.dense|o_proj)\.(weight|bias)', _OFFICIAL + r'attn.proj.\3'),
    (_BLOCK + r'(?:intermediate\.dense|mlp\.fc1)\.(weight|bias)', _OFFICIAL + r'mlp.fc1.\3'),
    (_BLOCK + r'(?:output\.dense|mlp\.fc2)\.(weight|bias)', _OFFICIAL + r'mlp.fc2.\3'),
    (r'swin\.encoder\.layers\.(\d+)\.downsample\.(reduction\.weight|norm\.weight|norm\.bias)',
     r'encoder.layers.\1.downsample.\2'),
    (r'swin\.layernorm\.(weight|bias)', r'encoder.norm.\1'),
    (r'decoder\.0\.(weight|bias)', r'decoder.0.\1'),
]
# both generations' spellings of the separate projections, renamed to these
_QKV = ({'query': 'q', 'key': 'k', 'value': 'v'}, ('q', 'k', 'v'))


def fuse_qkv(weights: Dict[str, Tensor], what: str) -> Dict[str, Tensor]:
    """Concatenate ``attn.{q,k,v}.*`` into the official ``attn.qkv.*`` (rows q, k, v)."""
    aliases, order = _QKV
    out, parts = {}, {}
    for key, value in weights.items():
        head, _, leaf = key.rpartition('.')
        stem, _, name = head.rpartition('.')
        name = aliases.get(name, name)
        if stem.endswith('.attn') and name in order:
            parts.setdefault((stem, leaf), {})[name] = value
        else:
            out[key] = value
    for (stem, leaf), found in parts.items():
        if set(found) != set(order):
            raise CheckpointError(f'{what}: {stem}.*.{leaf} has only {sorted(found)} of q, k, v')
        out[f'{stem}.qkv.{leaf}'] = torch.cat([found[n] for n in order])
    return out


def convert_huggingface(state_dict: Dict[str, Tensor],
                        what: str = 'Hugging Face checkpoint') -> Dict[str, Tensor]:
    """A ``SwinForMaskedImageModeling`` state dict -> simmim_mm ``backbone.*`` / ``neck.*``."""
    if not isinstance(state_dict, dict):
        raise CheckpointError(f'{what}: not a state dict ({type(state_dict).__name__})')
    if any(k.startswith('vit.') for k in state_dict):
        raise CheckpointError(
            f'{what}: ViTForMaskedImageModeling is a plain ViT (absolute position embedding '
            'vit.embeddings.position_embeddings, no layer scale, no relative position bias), '
            "not the paper's BEiT-style ViT; SimMIMViT (the ViT configs in configs/pretrain/) "
            'has no absolute position embedding, so no exact conversion exists')
    if not any(k.startswith('swin.') for k in state_dict) or 'decoder.0.weight' not in state_dict:
        raise CheckpointError(f'{what}: not a SwinForMaskedImageModeling state dict '
                              f'(no swin.* and decoder.0.* keys; found {preview(state_dict)})')
    official = fuse_qkv(rename_keys(state_dict, HF_SWIN_RULES, what), what)
    return convert_official_pretrained({'model': official}, what)
