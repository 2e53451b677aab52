"""simmim_mm's SimMIMSwinTransformer: mmpretrain's, bit for bit, with fewer copies."""
import pytest
import torch

from simmim_mm.models.encoders.swin import (
    SimMIMSwinTransformer,
    WindowOrderShiftWindowMSA,
    window_order,
)
from simmim_mm.registry import MODELS


def build_pair(img_size, windows, drop_path_rate=0.0):
    cfg = dict(
        arch=dict(embed_dims=16, depths=[2, 2, 2, 2], num_heads=[1, 2, 2, 4]),
        img_size=img_size,
        drop_path_rate=drop_path_rate,
        stage_cfgs=[dict(block_cfgs=dict(window_size=w)) for w in windows])
    torch.manual_seed(0)
    reference = MODELS.build(dict(type='mmpretrain.SimMIMSwinTransformer', **cfg))
    reference.init_weights()
    ours = MODELS.build(dict(type='SimMIMSwinTransformer', **cfg))
    assert type(ours) is SimMIMSwinTransformer
    ours.load_state_dict(reference.state_dict(), strict=True)
    return reference, ours


@pytest.mark.parametrize(
    'img_size,windows',
    [
        (96, [3, 3, 3, 3]),  # every stage shifted; the last (3x3) equals its window: no shift
        (64, [4, 4, 2, 2]),  # windows per stage, as Swin-L at 192 px
        (112, [4, 4, 4, 3]),  # 14x14 and 7x7 maps need padding: mmpretrain's path there
    ])
def test_outputs_and_gradients_are_bit_identical(img_size, windows):
    reference, ours = build_pair(img_size, windows)
    assert list(ours.state_dict()) == list(reference.state_dict())
    assert all(
        isinstance(block.attn, WindowOrderShiftWindowMSA) for stage in ours.stages
        for block in stage.blocks)
    x = torch.randn(2, 3, img_size, img_size, requires_grad=True)
    grid = img_size // 4
    mask = (torch.rand(2, grid, grid) > 0.4).float()
    outputs = []
    for model in (reference, ours):
        out = model(x, mask)[-1]
        grads = torch.autograd.grad(out.square().sum(), [x] + list(model.parameters()))
        outputs.append((out, grads))
    (out_ref, grads_ref), (out, grads) = outputs
    assert torch.equal(out, out_ref)
    assert all(torch.equal(a, b) for a, b in zip(grads, grads_ref))


def test_window_order_is_roll_then_partition():
    tokens = torch.arange(6 * 8).view(1, 6, 8, 1)
    rolled = torch.roll(tokens, shifts=(-1, -1), dims=(1, 2))
    windows = rolled.view(1, 3, 2, 4, 2, 1).permute(0, 1, 3, 2, 4, 5).reshape(-1)
    assert torch.equal(window_order(6, 8, 2, 1), windows)
