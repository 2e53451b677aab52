"""The mask token, for each encoder: masked patches are seen only as the mask token."""
import pytest
import torch

from simmim_mm.registry import MODELS

ENCODERS = {
    'swin': (dict(
        type='SimMIMSwinTransformer',
        img_size=64,
        arch=dict(embed_dims=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2]),
        stage_cfgs=dict(block_cfgs=dict(window_size=2))), 4),
    'swinv2': (dict(
        type='SimMIMSwinTransformerV2',
        img_size=64,
        window_size=[4, 4, 2, 2],
        arch=dict(
            embed_dims=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2],
            extra_norm_every_n_blocks=0)), 4),
    'vit': (dict(
        type='SimMIMViT',
        img_size=64,
        arch=dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)), 16),
}


def build(name):
    cfg, patch = ENCODERS[name]
    encoder = MODELS.build(dict(cfg, drop_path_rate=0.0))
    encoder.init_weights()
    encoder.eval()  # mmpretrain's Swin.train() returns None: no chaining
    return encoder, patch


@pytest.mark.parametrize('name', list(ENCODERS))
def test_masked_patches_see_only_the_mask_token(name):
    torch.manual_seed(0)
    encoder, patch = build(name)
    grid = 64 // patch
    inputs = torch.randn(1, 3, 64, 64)
    mask = torch.zeros(1, grid, grid, dtype=torch.long)
    mask[0, :grid // 2, :grid // 2] = 1  # the top-left quarter is masked
    with torch.no_grad():
        out = encoder(inputs, mask)[-1]
        assert out.dim() == 4 and out.shape[0] == 1
        changed_masked = inputs.clone()
        changed_masked[..., :32, :32] = torch.randn(1, 3, 32, 32)
        assert torch.equal(encoder(changed_masked, mask)[-1], out)
        changed_visible = inputs.clone()
        changed_visible[..., 32:, 32:] = torch.randn(1, 3, 32, 32)
        assert not torch.allclose(encoder(changed_visible, mask)[-1], out)
        # and without a mask the same image change is seen
        assert not torch.allclose(encoder(changed_masked, None)[-1], encoder(inputs, None)[-1])


def test_vit_returns_the_patch_token_map_without_cls_token():
    encoder, _ = build('vit')
    inputs = torch.randn(2, 3, 64, 64)
    mask = torch.zeros(2, 4, 4, dtype=torch.long)
    with torch.no_grad():
        fmap = encoder(inputs, mask)[0]
        tokens = encoder(inputs, None)[-1]  # (B, 1 + L, C), cls first
    assert fmap.shape == (2, 32, 4, 4)
    torch.testing.assert_close(fmap.flatten(2).transpose(1, 2), tokens[:, 1:])


def test_vit_official_init():
    encoder, _ = build('vit')
    for tensor in (encoder.mask_token, encoder.cls_token, encoder.layers[0].attn.qkv.weight,
                   encoder.patch_embed.projection.weight):
        assert tensor.abs().max() <= 0.02 + 1e-7 and tensor.std() > 0.005
    # output projections rescaled by 1 / sqrt(2 * depth): layer 2 is smaller than layer 1
    assert encoder.layers[1].attn.proj.weight.abs().max() <= 0.02 / 2 + 1e-7
    assert torch.all(encoder.layers[0].gamma_1 == 0.1)
    assert encoder.layers[0].attn.q_bias is not None and encoder.layers[0].attn.qkv.bias is None
    assert encoder.rel_pos_bias.relative_position_bias_table.shape == ((2 * 4 - 1)**2 + 3, 2)


def test_swinv2_res_post_norms_start_at_zero():
    encoder, _ = build('swinv2')
    block = encoder.stages[0].blocks[0]
    assert torch.all(block.norm1.weight == 0) and torch.all(block.norm2.weight == 0)
    assert encoder.mask_token.std() > 0.005
