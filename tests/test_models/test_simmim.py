import numpy as np
import pytest
import torch
from mmpretrain.structures import DataSample

from simmim_mm.registry import MODELS

TINY_SWIN = dict(embed_dims=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2])


def build_simmim(channels=3, img_size=64, **neck):
    return MODELS.build(
        dict(
            type='SimMIM',
            backbone=dict(
                type='SimMIMSwinTransformer',
                arch=TINY_SWIN,
                img_size=img_size,
                in_channels=channels,
                drop_path_rate=0.0,
                stage_cfgs=dict(block_cfgs=dict(window_size=2))),
            neck=dict(type='SimMIMDecoder', encoder_stride=32, **neck),
            head=dict(type='SimMIMReconstructionHead')))


@pytest.mark.parametrize('channels', [1, 3, 4])
def test_decoder_follows_encoder_and_reconstructs_every_channel(channels):
    model = build_simmim(channels).eval()
    assert model.neck.in_channels == 16 * 8
    assert model.neck.out_channels == channels
    inputs = torch.randn(2, channels, 64, 64)
    mask = torch.randint(0, 2, (2, 16, 16))
    rec = model.reconstruct(inputs, mask)
    assert rec.shape == inputs.shape
    samples = [DataSample().set_mask(m) for m in mask]
    loss = model.loss(inputs, samples)['loss']
    assert loss.item() == pytest.approx(official_l1(rec, inputs, mask), rel=1e-5)


def official_l1(rec, inputs, mask):
    """The official SimMIM loss, in float64 NumPy: the patch-grid mask repeated to pixels,
    L1 summed over masked pixels and channels, / (masked pixels + 1e-5) / channels."""
    rec, inputs = rec.detach().double().numpy(), inputs.double().numpy()
    patch = inputs.shape[-1] // mask.shape[-1]
    pixels = np.kron(mask.numpy(), np.ones((patch, patch)))[:, None]  # (B, 1, H, W)
    return (np.abs(rec - inputs) * pixels).sum() / (pixels.sum() + 1e-5) / inputs.shape[1]


def test_loss_of_a_hand_computed_example():
    """Two channels, one masked 2x2 patch of a 4x4 image: 4 pixels x (3 + 1) = 16."""
    target = torch.stack([torch.full((4, 4), 3.0), torch.ones(4, 4)])[None]
    mask = torch.tensor([[[1, 0], [0, 0]]])
    head = MODELS.build(dict(type='SimMIMReconstructionHead'))
    loss = head.loss(torch.zeros(1, 2, 4, 4), target, mask)
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(16 / (4 + 1e-5) / 2, rel=1e-6)
    target[..., 2:, :] += 100  # visible pixels do not count
    assert head.loss(torch.zeros(1, 2, 4, 4), target, mask).item() == pytest.approx(
        16 / (4 + 1e-5) / 2, rel=1e-6)


def test_the_head_adds_nothing_to_checkpoints():
    """The head has no parameters: checkpoints hold the encoder and decoder only."""
    keys = build_simmim().state_dict()
    assert {key.split('.')[0] for key in keys} == {'backbone', 'neck'}


def test_neck_channels_that_disagree_with_the_encoder_are_refused():
    with pytest.raises(ValueError, match=r'model\.neck\.in_channels=64 .*\(128\)'):
        build_simmim(in_channels=64)
    with pytest.raises(ValueError, match=r'model\.neck\.out_channels=1 .*\(3\)'):
        build_simmim(out_channels=1)
    assert build_simmim(in_channels=128, out_channels=3).neck.in_channels == 128


def test_masked_patches_only_see_the_mask_token():
    torch.manual_seed(0)
    model = build_simmim().eval()
    inputs = torch.randn(1, 3, 64, 64)
    mask = torch.zeros(1, 16, 16, dtype=torch.long)
    mask[0, 0:8, 0:8] = 1  # top-left 32 px block masked
    with torch.no_grad():
        rec = model.reconstruct(inputs, mask)
        under_masked = inputs.clone()
        under_masked[..., 0:32, 0:32] = torch.randn(1, 3, 32, 32)
        assert torch.equal(model.reconstruct(under_masked, mask), rec)
        under_visible = inputs.clone()
        under_visible[..., 32:64, 32:64] = torch.randn(1, 3, 32, 32)
        assert not torch.allclose(model.reconstruct(under_visible, mask), rec)
        # the mask token itself is what masked patches see
        model.backbone.mask_token.data += 1.0
        assert not torch.allclose(model.reconstruct(inputs, mask), rec)


def test_mask_that_does_not_tile_the_image_is_refused():
    model = build_simmim()
    with pytest.raises(ValueError, match='does not tile'):
        model.reconstruct(torch.randn(1, 3, 64, 64), torch.zeros(1, 15, 15))


def test_tensor_mode_returns_unmasked_features():
    model = build_simmim().eval()
    feats = model(torch.randn(1, 3, 64, 64), mode='tensor')
    assert feats[-1].shape == (1, 128, 2, 2)


def test_images_with_other_channels_than_the_model_are_refused():
    model = build_simmim(channels=3)
    with pytest.raises(ValueError, match=r'1 channels.*model\.backbone\.in_channels'):
        model.reconstruct(torch.randn(1, 1, 64, 64), torch.zeros(1, 16, 16))


@pytest.mark.parametrize('backbone,stage', [
    (dict(type='SimMIMSwinTransformer', stage_cfgs=dict(block_cfgs=dict(window_size=7))), 0),
    (dict(type='SimMIMSwinTransformerV2', window_size=[12, 12, 12, 12]), 3),
])
def test_windows_that_do_not_tile_the_feature_map_are_refused(backbone, stage):
    with pytest.raises(ValueError, match=rf'window size \d+ does not tile stage {stage}'):
        MODELS.build(
            dict(
                type='SimMIM',
                backbone=dict(backbone, arch='tiny', img_size=192),
                neck=dict(type='SimMIMDecoder', encoder_stride=32),
                head=dict(type='SimMIMReconstructionHead')))


def build_with_preprocessor(channels, **preprocessor):
    return MODELS.build(
        dict(
            type='SimMIM',
            backbone=dict(
                type='SimMIMSwinTransformer',
                arch=TINY_SWIN,
                img_size=64,
                in_channels=channels,
                stage_cfgs=dict(block_cfgs=dict(window_size=2))),
            neck=dict(type='SimMIMDecoder', encoder_stride=32),
            head=dict(type='SimMIMReconstructionHead'),
            data_preprocessor=preprocessor))


def test_a_preprocessor_for_other_channels_is_refused_at_build():
    """to_rgb would keep 3 of 5 bands (or fail on 1), and 3 means cannot normalize 5 bands:
    each is named before any image is read."""
    with pytest.raises(ValueError, match=r'to_rgb=True .*in_channels=5: set to_rgb=False'):
        build_with_preprocessor(
            5, type='MultiChannelDataPreprocessor', mean=[0.0] * 5, std=[1.0] * 5, to_rgb=True)
    with pytest.raises(ValueError, match=r'in_channels=1: set to_rgb=False'):
        build_with_preprocessor(
            1, type='SelfSupDataPreprocessor', mean=[0.0], std=[1.0], to_rgb=True)
    with pytest.raises(ValueError, match=r'data_preprocessor\.mean has 3 values.*in_channels=5'):
        build_with_preprocessor(
            5, type='SelfSupDataPreprocessor', mean=[0.0] * 3, std=[1.0] * 3, to_rgb=False)
    model = build_with_preprocessor(
        5, type='MultiChannelDataPreprocessor', mean=[0.0] * 5, std=[1.0] * 5, to_rgb=False)
    assert model.data_preprocessor.mean.numel() == 5
