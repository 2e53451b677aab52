import pytest
from torch import nn

from simmim_mm.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS


class Detector(nn.Module):
    """A backbone plus a neck, and no get_layer_depth: what mmdet / mmseg models look like."""

    def __init__(self):
        super().__init__()
        self.backbone = MODELS.build(
            dict(
                type='SwinTransformer',
                img_size=64,
                out_indices=(0, 1, 2, 3),
                arch=dict(embed_dims=16, depths=[1, 2, 1, 1], num_heads=[1, 1, 2, 2]),
                stage_cfgs=dict(block_cfgs=dict(window_size=2))))
        self.neck = nn.Linear(4, 4)


def test_official_layer_ids_on_a_detector():
    model = Detector()
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(
            type='BackboneLayerDecayOptimWrapperConstructor',
            optim_wrapper_cfg=dict(
                type='OptimWrapper', optimizer=dict(type='AdamW', lr=1.0, weight_decay=0.05)),
            paramwise_cfg=dict(layer_decay_rate=0.5, flat_decay_mult=0.0)))
    wrapper = constructor(model)
    scale = {}
    for group in wrapper.optimizer.param_groups:
        for param in group['params']:
            scale[id(param)] = group['lr']
    named = dict(model.named_parameters())
    # depths 1-2-1-1: 5 blocks, ids 0 (patch embed) .. 6 (the rest); lr = 0.5 ** (6 - id)
    expected = {
        'backbone.patch_embed.projection.weight': 0,
        'backbone.stages.0.blocks.0.attn.w_msa.qkv.weight': 1,
        'backbone.stages.0.downsample.reduction.weight': 1,
        'backbone.stages.1.blocks.1.ffn.layers.1.weight': 3,
        'backbone.stages.1.downsample.norm.weight': 3,
        'backbone.stages.3.blocks.0.attn.w_msa.proj.weight': 5,
        'backbone.norm3.weight': 6,
        'neck.weight': 6,
    }
    for name, layer_id in expected.items():
        assert scale[id(named[name])] == pytest.approx(0.5**(6 - layer_id)), name
