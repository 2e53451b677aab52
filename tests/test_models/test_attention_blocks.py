"""Reading a block's input and q / k / v out of our encoders, checked by hand."""
import math

import numpy as np
import pytest
import torch

from simmim_mm.models.utils.attention_blocks import (
    attention_blocks,
    block_qkv,
    run_to_block,
    window_partition,
)
from simmim_mm.registry import MODELS

TINY_VIT = dict(embed_dims=8, num_layers=3, num_heads=2, feedforward_channels=16)


def tiny_vit():
    torch.manual_seed(0)
    vit = MODELS.build(dict(type='SimMIMViT', arch=TINY_VIT, img_size=16, patch_size=8))
    vit.init_weights()
    with torch.no_grad():  # non-zero q / v biases and norm affine, so that each one shows
        for p in vit.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    vit.eval()  # (mmpretrain backbones' train() returns None)
    return vit


def test_vit_qkv_is_the_pre_norm_projection_with_q_and_v_biases():
    vit = tiny_vit()
    block = vit.layers[1]
    tokens = torch.randn(2, 5, 8, dtype=torch.float64)
    with torch.no_grad():
        q, k, v = block_qkv(block.double(), tokens)
    assert q.shape == k.shape == v.shape == (2, 2, 5, 4)

    ln_w, ln_b = block.ln1.weight.detach().numpy(), block.ln1.bias.detach().numpy()
    weight = block.attn.qkv.weight.detach().numpy()  # (24, 8)
    q_bias, v_bias = block.attn.q_bias.detach().numpy(), block.attn.v_bias.detach().numpy()
    x = tokens.numpy()
    for b in range(2):
        for n in range(5):
            row = x[b, n]
            normed = (row - row.mean()) / math.sqrt(row.var() + 1e-6) * ln_w + ln_b
            out = weight @ normed  # q | k | v, 8 each
            for h in range(2):
                part = slice(h * 4, h * 4 + 4)
                np.testing.assert_allclose(
                    q[b, h, n].numpy(), out[0:8][part] + q_bias[part], rtol=1e-10)
                np.testing.assert_allclose(k[b, h, n].numpy(), out[8:16][part], rtol=1e-10)
                np.testing.assert_allclose(
                    v[b, h, n].numpy(), out[16:24][part] + v_bias[part], rtol=1e-10)


def test_run_to_block_returns_the_block_input_and_stops_there():
    vit = tiny_vit()
    images = torch.randn(2, 3, 16, 16)
    calls = []
    handle = vit.layers[2].register_forward_pre_hook(lambda m, a: calls.append(1))
    args, outputs = run_to_block(vit, vit.layers[1], images)
    assert outputs is None and not calls  # the forward ended before blocks 1 and 2
    with torch.no_grad():  # the same input by hand: patches, cls token, block 0
        x = vit.patch_embed(images)[0]
        x = torch.cat([vit.cls_token.expand(2, -1, -1), x], dim=1)
        x = vit.layers[0](x, vit.rel_pos_bias())
    torch.testing.assert_close(args[0], x)

    args, outputs = run_to_block(vit, vit.layers[1], images, stop=False)
    assert calls and outputs[-1].shape == (2, 5, 8)  # the full forward ran
    handle.remove()
    assert not vit.layers[1]._forward_pre_hooks  # the hook is gone


def test_window_partition_against_loops():
    height, width, window = 4, 6, 2
    tokens = torch.arange(2 * height * width * 3).view(2, height * width, 3)
    windows = window_partition(tokens, (height, width), window)
    assert windows.shape == (2 * 2 * 3, 4, 3)
    index = 0
    for b in range(2):
        for wy in range(height // window):
            for wx in range(width // window):
                for i in range(window):
                    for j in range(window):
                        y, x = wy * window + i, wx * window + j
                        assert torch.equal(windows[index, i * window + j], tokens[b, y * width + x])
                index += 1
    with pytest.raises(ValueError, match='does not tile'):
        window_partition(tokens, (height, width), 4)


def test_swin_qkv_per_window_of_the_last_block():
    torch.manual_seed(0)
    swin = MODELS.build(
        dict(
            type='SimMIMSwinTransformer',
            img_size=64,
            arch=dict(embed_dims=8, depths=[1, 1, 2, 1], num_heads=[1, 1, 2, 2]),
            stage_cfgs=dict(block_cfgs=dict(window_size=2))))
    swin.eval()
    blocks = attention_blocks(swin)
    assert len(blocks) == 5 and blocks[-1] is swin.stages[3].blocks[0]
    block = blocks[3]  # stage 2's second block, a 4x4 map of 2x2 windows, 2 heads
    args, _ = run_to_block(swin, block, torch.randn(1, 3, 64, 64))
    tokens, hw = args
    assert hw == (4, 4)
    q, k, v = block_qkv(block, tokens, hw)
    assert q.shape == (4, 2, 4, 16)  # 4 windows, 2 heads, 4 tokens, head dim 16
    with torch.no_grad():
        projected = block.attn.w_msa.qkv(block.norm1(tokens))  # (1, 16, 96)
    # window 1 (top right), its token 2 = map position (1, 2); v of head 1
    torch.testing.assert_close(v[1, 1, 2], projected[0, 1 * 4 + 2, 64 + 16:64 + 32])
