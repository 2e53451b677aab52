"""Each test here fails once mmpretrain 1.2.0's behaviour that a workaround in
simmim_mm/compat/mmpretrain.py exists for is gone: then drop it."""
import inspect

import pytest
import torch
from mmpretrain.models.backbones.swin_transformer import SwinBlock
from mmpretrain.models.utils.attention import ShiftWindowMSA

from simmim_mm.compat.mmpretrain import use_shift_window_attention
from simmim_mm.models.encoders.swin import WindowOrderShiftWindowMSA


def test_swin_block_still_builds_shift_window_msa_by_name():
    """If this fails, SwinBlock takes its attention class from a config and
    SimMIMSwinTransformer can ask for WindowOrderShiftWindowMSA there instead."""
    assert not any('attn' in name and name != 'attn_cfgs'
                   for name in inspect.signature(SwinBlock).parameters)
    with pytest.raises(TypeError, match='type'):
        SwinBlock(
            embed_dims=8,
            num_heads=1,
            window_size=2,
            attn_cfgs=dict(type='WindowOrderShiftWindowMSA'))
    assert type(SwinBlock(embed_dims=8, num_heads=1, window_size=2).attn) is ShiftWindowMSA


def test_attention_swap_keeps_weights_and_random_draws():
    torch.manual_seed(0)
    reference = SwinBlock(embed_dims=8, num_heads=1, window_size=2, shift=True)
    after_reference = torch.rand(1)
    torch.manual_seed(0)
    block = SwinBlock(embed_dims=8, num_heads=1, window_size=2, shift=True)
    use_shift_window_attention(block, WindowOrderShiftWindowMSA)
    assert torch.equal(torch.rand(1), after_reference)
    assert type(block.attn) is WindowOrderShiftWindowMSA
    state, expected = block.state_dict(), reference.state_dict()
    assert list(state) == list(expected)
    assert all(torch.equal(state[k], expected[k]) for k in state)
    x = torch.randn(2, 16, 8)
    torch.testing.assert_close(block(x, (4, 4)), reference(x, (4, 4)))


def test_attention_swap_refuses_an_unrelated_class():
    block = SwinBlock(embed_dims=8, num_heads=1, window_size=2)
    with pytest.raises(TypeError, match='does not extend ShiftWindowMSA'):
        use_shift_window_attention(block, torch.nn.Identity)
