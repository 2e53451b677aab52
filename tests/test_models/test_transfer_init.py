"""Loading a SimMIM checkpoint into downstream backbones: strict, resized, loud."""
import pytest
import torch

from simmim_mm.registry import MODELS, WEIGHT_INITIALIZERS

TINY_SWIN = dict(embed_dims=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2])
TINY_VIT = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)


def save_pretraining(tmp_path, backbone):
    model = MODELS.build(
        dict(
            type='SimMIM',
            backbone=backbone,
            neck=dict(type='SimMIMDecoder', encoder_stride=backbone.pop('stride', 32)),
            head=dict(type='SimMIMReconstructionHead')))
    path = tmp_path / 'pretrain.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return str(path), {
        k[len('backbone.'):]: v
        for k, v in model.state_dict().items() if k.startswith('backbone.')
    }


def swin_checkpoint(tmp_path):
    return save_pretraining(
        tmp_path,
        dict(
            type='SimMIMSwinTransformer',
            arch=dict(TINY_SWIN),
            img_size=64,
            stage_cfgs=dict(block_cfgs=dict(window_size=2))))


def load_into(target_cfg, checkpoint, **init):
    target = MODELS.build(target_cfg)
    WEIGHT_INITIALIZERS.build(dict(type='Pretrained', checkpoint=checkpoint, **init))(target)
    return target


def test_swin_encoder_loads_with_resized_window(tmp_path):
    path, encoder = swin_checkpoint(tmp_path)
    target = load_into(
        dict(
            type='SwinTransformer',
            arch=dict(TINY_SWIN),
            img_size=64,
            out_indices=(0, 1, 2, 3),
            pad_small_map=True,
            stage_cfgs=dict(block_cfgs=dict(window_size=3))),
        path,
        allow_missing=[r'^norm[0-2]\.'])
    loaded = target.state_dict()
    resized = 0
    for key, value in encoder.items():
        if key == 'mask_token' or key.endswith(('relative_position_index', 'attn_mask')):
            assert key not in loaded or not key.endswith('mask_token')
            continue
        if key.endswith('relative_position_bias_table'):
            assert loaded[key].shape == ((2 * 3 - 1)**2, value.shape[1])
            torch.testing.assert_close(loaded[key][12], value[4])  # the centre is kept
            resized += 1
        else:
            assert torch.equal(loaded[key], value), key
    assert resized == 4
    assert 'norm3.weight' in encoder and torch.equal(loaded['norm3.weight'],
                                                     encoder['norm3.weight'])


def test_missing_encoder_weights_fail_loudly(tmp_path):
    path, _ = swin_checkpoint(tmp_path)
    state = torch.load(path)
    del state['state_dict']['backbone.stages.1.blocks.0.ffn.layers.1.weight']
    torch.save(state, path)
    target_cfg = dict(
        type='SwinTransformer',
        arch=dict(TINY_SWIN),
        img_size=64,
        stage_cfgs=dict(block_cfgs=dict(window_size=2)))
    with pytest.raises(
            ValueError,
            match=r'missing from the checkpoint.*stages\.1\.blocks\.0'
            r'\.ffn\.layers\.1\.weight'):
        load_into(target_cfg, path)


def test_new_output_norms_must_be_declared(tmp_path):
    path, _ = swin_checkpoint(tmp_path)
    target_cfg = dict(
        type='SwinTransformer',
        arch=dict(TINY_SWIN),
        img_size=64,
        out_indices=(0, 1, 2, 3),
        stage_cfgs=dict(block_cfgs=dict(window_size=2)))
    with pytest.raises(ValueError, match=r'norm0\.weight'):
        load_into(target_cfg, path)


def test_weights_the_backbone_cannot_take_fail_loudly(tmp_path):
    path, _ = swin_checkpoint(tmp_path)
    target_cfg = dict(
        type='SwinTransformer',
        arch=dict(TINY_SWIN, num_heads=[1, 1, 2, 4]),
        img_size=64,
        stage_cfgs=dict(block_cfgs=dict(window_size=2)))
    with pytest.raises(
            ValueError,
            match=r'shape mismatches.*stages\.3\.blocks\.0\.attn\.w_msa\.'
            r'relative_position_bias_table \(9, 2\) vs \(9, 4\)'):
        load_into(target_cfg, path)


def test_channel_counts_other_than_rgb_to_gray_name_in_channels(tmp_path):
    path, _ = swin_checkpoint(tmp_path)
    target_cfg = dict(
        type='SwinTransformer',
        arch=dict(TINY_SWIN),
        img_size=64,
        in_channels=2,
        stage_cfgs=dict(block_cfgs=dict(window_size=2)))
    with pytest.raises(ValueError, match='3 channels, model.backbone.in_channels=2'):
        load_into(target_cfg, path)


def test_checkpoint_without_encoder_is_named(tmp_path):
    path = tmp_path / 'other.pth'
    torch.save({'state_dict': {'head.fc.weight': torch.zeros(2, 2)}}, path)
    with pytest.raises(KeyError, match='other.pth.*backbone'):
        load_into(
            dict(
                type='SwinTransformer',
                arch=dict(TINY_SWIN),
                img_size=64,
                stage_cfgs=dict(block_cfgs=dict(window_size=2))), str(path))


def test_vit_shared_bias_goes_to_every_block_and_final_norm_to_fc_norm(tmp_path):
    path, encoder = save_pretraining(
        tmp_path, dict(type='SimMIMViT', arch=dict(TINY_VIT), img_size=64, stride=16))
    target = load_into(
        dict(
            type='BEiTViT',
            arch=dict(TINY_VIT),
            img_size=64,
            use_abs_pos_emb=False,
            use_rel_pos_bias=True,
            use_shared_rel_pos_bias=False,
            layer_scale_init_value=0.1,
            out_type='avg_featmap',
            final_norm=False),
        path,
        ignore_keys=[r'^ln1\.'],
        allow_missing=[r'^ln2\.'])
    shared = encoder['rel_pos_bias.relative_position_bias_table']
    for layer in target.layers:
        torch.testing.assert_close(layer.attn.relative_position_bias_table, shared)
    assert torch.equal(target.layers[1].ffn.layers[1].weight,
                       encoder['layers.1.ffn.layers.1.weight'])
    assert torch.equal(target.cls_token, encoder['cls_token'])


def test_a_simmim_encoder_takes_its_mask_token_too(tmp_path):
    path, encoder = swin_checkpoint(tmp_path)
    target = load_into(
        dict(
            type='SimMIMSwinTransformer',
            arch=dict(TINY_SWIN),
            img_size=64,
            stage_cfgs=dict(block_cfgs=dict(window_size=2))), path)
    assert torch.equal(target.mask_token, encoder['mask_token'])


def simmim(in_channels=3, window=2, img_size=64):
    return MODELS.build(
        dict(
            type='SimMIM',
            backbone=dict(
                type='SimMIMSwinTransformer',
                arch=dict(TINY_SWIN),
                img_size=img_size,
                in_channels=in_channels,
                stage_cfgs=dict(block_cfgs=dict(window_size=window))),
            neck=dict(type='SimMIMDecoder', encoder_stride=32),
            head=dict(type='SimMIMReconstructionHead')))


def test_continued_pretraining_on_grayscale_reconstructs_the_mean_of_rgb(tmp_path):
    """An RGB model shown a grayscale image as 3 equal channels predicts R, G and B; the
    one-channel model made from its weights predicts their mean, exactly."""
    rgb = simmim()
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in rgb.parameters():  # zero-initialised biases and tables would hide mistakes
            p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
    torch.save({'state_dict': rgb.state_dict()}, tmp_path / 'rgb.pth')
    gray = simmim(in_channels=1)
    WEIGHT_INITIALIZERS.build(dict(type='Pretrained', checkpoint=str(tmp_path / 'rgb.pth')))(gray)
    rgb.eval(), gray.eval()
    x = torch.rand(2, 1, 64, 64, generator=gen)
    mask = (torch.rand(2, 16, 16, generator=gen) < 0.6).float()
    with torch.no_grad():
        expected = rgb.reconstruct(x.expand(-1, 3, -1, -1), mask).mean(dim=1, keepdim=True)
        torch.testing.assert_close(gray.reconstruct(x, mask), expected, rtol=1e-4, atol=1e-5)
    assert torch.equal(gray.backbone.mask_token, rgb.backbone.mask_token)


def test_a_decoder_that_does_not_fit_stays_as_initialised(tmp_path):
    source = simmim()
    state = {k: v for k, v in source.state_dict().items() if k.startswith('backbone.')}
    torch.save({'state_dict': state}, tmp_path / 'encoder_only.pth')
    target = simmim()
    decoder = {k: v.clone() for k, v in target.neck.state_dict().items()}
    WEIGHT_INITIALIZERS.build(
        dict(type='Pretrained', checkpoint=str(tmp_path / 'encoder_only.pth')))(
            target)
    for key, value in target.neck.state_dict().items():
        assert torch.equal(value, decoder[key])
    assert torch.equal(target.backbone.stages[1].blocks[0].ffn.layers[1].weight,
                       state['backbone.stages.1.blocks.0.ffn.layers.1.weight'])
