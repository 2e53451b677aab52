"""microsoft/SimMIM checkpoints -> simmim_mm (pretraining) or mmpretrain (fine-tuned).

Pretraining files hold ``['model']`` with ``encoder.*`` (Swin or the BEiT-style ViT),
``encoder.mask_token`` and ``decoder.0.*``; fine-tuned files hold the bare encoder plus
``head.*`` (and, for ViT, ``fc_norm``).
"""
from typing import Dict

from torch import Tensor

from ..errors import CheckpointError
from .key_mapping import DERIVED_BUFFERS, Rule, preview, rename_keys, strip_prefix
from .patch_merging import reorder_downsample

_BLOCK = r'layers\.(\d+)\.blocks\.(\d+)\.'
_STAGE = r'backbone.stages.\1.blocks.\2.'
# Swin encoder, official -> OpenMMLab; `norm` (the final one) is added per stage count.
SWIN_RULES = [
    (DERIVED_BUFFERS, None),
    (r'mask_token', r'backbone.mask_token'),
    (r'absolute_pos_embed', r'backbone.absolute_pos_embed'),
    (r'patch_embed\.proj\.(weight|bias)', r'backbone.patch_embed.projection.\1'),
    (r'patch_embed\.norm\.(weight|bias)', r'backbone.patch_embed.norm.\1'),
    (_BLOCK + r'(norm1|norm2)\.(weight|bias)', _STAGE + r'\3.\4'),
    (_BLOCK + r'attn\.(qkv|proj)\.(weight|bias)', _STAGE + r'attn.w_msa.\3.\4'),
    (_BLOCK + r'attn\.relative_position_bias_table',
     _STAGE + r'attn.w_msa.relative_position_bias_table'),
    (_BLOCK + r'mlp\.fc1\.(weight|bias)', _STAGE + r'ffn.layers.0.0.\3'),
    (_BLOCK + r'mlp\.fc2\.(weight|bias)', _STAGE + r'ffn.layers.1.\3'),
    (r'layers\.(\d+)\.downsample\.(reduction\.weight|norm\.weight|norm\.bias)',
     r'backbone.stages.\1.downsample.\2'),
]

_VIT_BLOCK = r'blocks\.(\d+)\.'
_LAYER = r'backbone.layers.\1.'
# BEiT-style ViT, official -> mmpretrain BEiTViT / SimMIMViT
VIT_RULES = [
    (DERIVED_BUFFERS, None),
    (r'(cls_token|mask_token|pos_embed)', r'backbone.\1'),
    (r'patch_embed\.proj\.(weight|bias)', r'backbone.patch_embed.projection.\1'),
    (r'rel_pos_bias\.relative_position_bias_table',
     r'backbone.rel_pos_bias.relative_position_bias_table'),
    (_VIT_BLOCK + r'(gamma_1|gamma_2)', _LAYER + r'\2'),
    (_VIT_BLOCK + r'norm1\.(weight|bias)', _LAYER + r'ln1.\2'),
    (_VIT_BLOCK + r'norm2\.(weight|bias)', _LAYER + r'ln2.\2'),
    (_VIT_BLOCK + r'attn\.(q_bias|v_bias|qkv\.weight|proj\.weight|proj\.bias'
     r'|relative_position_bias_table)', _LAYER + r'attn.\2'),
    (_VIT_BLOCK + r'mlp\.fc1\.(weight|bias)', _LAYER + r'ffn.layers.0.0.\2'),
    (_VIT_BLOCK + r'mlp\.fc2\.(weight|bias)', _LAYER + r'ffn.layers.1.\2'),
    (r'norm\.(weight|bias)', r'backbone.ln1.\1'),
    (r'fc_norm\.(weight|bias)', r'backbone.ln2.\1'),
]

DECODER_RULES = [(r'decoder\.0\.(weight|bias)', r'neck.decoder.0.\1')]
CLASSIFIER_HEAD_RULES = [(r'head\.(weight|bias)', r'head.fc.\1')]


def official_state_dict(checkpoint: dict, what: str) -> Dict[str, Tensor]:
    """The weights of an official file: its ``model`` entry (or a bare state dict)."""
    weights = checkpoint.get('model', checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(weights, dict) or not weights:
        keys = preview(checkpoint) if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise CheckpointError(f'{what}: no "model" state dict (found {keys})')
    if any('cpb_mlp' in k or 'logit_scale' in k for k in weights):
        raise CheckpointError(f'{what}: an official SwinV2 checkpoint (cpb_mlp / '
                              'logit_scale keys); SwinV2 conversion is not supported yet')
    return weights


def is_swin(weights: Dict[str, Tensor]) -> bool:
    """Swin's stages are ``layers.{i}.blocks.{j}``; the ViT's blocks are ``blocks.{i}``."""
    return any(k.startswith('layers.') for k in weights)


def _swin_final_norm(weights: Dict[str, Tensor]) -> Rule:
    """The official final ``norm`` is mmpretrain's ``norm{last stage}``."""
    stages = {int(k.split('layers.')[1].split('.')[0]) for k in weights if 'layers.' in k}
    return (r'norm\.(weight|bias)', rf'backbone.norm{max(stages)}.\1')


def is_finetuned(weights: Dict[str, Tensor]) -> bool:
    """Fine-tuned files hold the bare encoder and a classifier head, no ``encoder.``."""
    return (any(k.startswith('head.') for k in weights)
            and not any(k.startswith('encoder.') for k in weights))


def convert_official(checkpoint: dict, what: str = 'official checkpoint') -> Dict[str, Tensor]:
    """Any official SimMIM file: a fine-tuned classifier goes to
    :func:`convert_official_finetuned`, the rest to :func:`convert_official_pretrained`."""
    if is_finetuned(official_state_dict(checkpoint, what)):
        return convert_official_finetuned(checkpoint, what)
    return convert_official_pretrained(checkpoint, what)


def convert_official_pretrained(checkpoint: dict,
                                what: str = 'official checkpoint') -> Dict[str, Tensor]:
    """An official SimMIM pretraining checkpoint -> simmim_mm ``backbone.*`` / ``neck.*``."""
    weights = official_state_dict(checkpoint, what)
    if not any(k.startswith('encoder.') for k in weights):
        raise CheckpointError(
            f'{what}: neither "encoder." keys (a SimMIM pretraining checkpoint) nor "head.*" '
            f'keys (a fine-tuned classifier); found {preview(weights)}')
    encoder = {k: v for k, v in weights.items() if k.startswith('encoder.')}
    rest = {k: v for k, v in weights.items() if not k.startswith('encoder.')}
    encoder = strip_prefix(encoder, 'encoder.')
    if is_swin(encoder):
        converted = rename_keys(encoder, SWIN_RULES + [_swin_final_norm(encoder)], what)
        converted = reorder_downsample(converted)
    else:
        converted = rename_keys(encoder, VIT_RULES, what)
    converted.update(rename_keys(rest, DECODER_RULES, what))
    return converted


def convert_official_finetuned(checkpoint: dict,
                               what: str = 'official checkpoint') -> Dict[str, Tensor]:
    """An official fine-tuned classifier -> mmpretrain ImageClassifier keys (``backbone.*``,
    ``head.fc.*``), loadable by mmpretrain's Swin / BEiTViT classifiers."""
    weights = official_state_dict(checkpoint, what)
    if any(k.startswith('encoder.') for k in weights):
        raise CheckpointError(f'{what}: has "encoder." keys, so it is a pretraining '
                              'checkpoint, not a fine-tuned classifier')
    if not any(k.startswith('head.') for k in weights):
        raise CheckpointError(f'{what}: no "head.*" keys, so not a fine-tuned classifier')
    if is_swin(weights):
        converted = rename_keys(weights,
                                SWIN_RULES + [_swin_final_norm(weights)] + CLASSIFIER_HEAD_RULES,
                                what)
        return reorder_downsample(converted)
    return rename_keys(weights, VIT_RULES + CLASSIFIER_HEAD_RULES, what)
