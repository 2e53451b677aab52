import pytest
from mmengine.registry import FUNCTIONS

from simmim_mm.engine import encoder_block_wrap_policy
from simmim_mm.registry import MODELS

from conftest import REPO_ROOT


@pytest.mark.parametrize(
    'config,blocks', [('pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py', 4),
                      ('pretrain/simmim_vit-base-p16_16xb128-amp-step-800e_in1k-224px.py', 2),
                      ('pretrain/simmim_swinv2-base-w12_16xb128-amp-step-800e_in1k-192px.py', 4)])
def test_one_fsdp_unit_per_encoder_block(config, blocks):
    from mmengine.config import Config
    cfg = Config.fromfile(f'{REPO_ROOT}/configs/{config}')
    backbone = cfg.model.backbone
    if 'vit' in config:
        backbone.arch = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
    else:
        backbone.arch = dict(
            embed_dims=16,
            depths=[1, 1, 1, 1],
            num_heads=[1, 1, 2, 2],
            **({
                'extra_norm_every_n_blocks': 0
            } if 'v2' in config else {}))
    model = MODELS.build(cfg.model)
    units = [m for m in model.modules() if encoder_block_wrap_policy(m, False, 0)]
    assert len(units) == blocks
    assert encoder_block_wrap_policy(model, True, 0)  # always descends
    # where MMEngine's FSDP wrapper looks it up by name
    assert FUNCTIONS.get('encoder_block_wrap_policy') is encoder_block_wrap_policy
