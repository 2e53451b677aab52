"""Reach inside an encoder's transformer blocks without changing its code: the list of
blocks, the input a block receives in the encoder's own forward (optionally ending the
forward there), and that block's per-head q / k / v.

Distillation needs these (TinyMIM's relations come from the q / k / v of one block, after
its pre-norm); the encoders' own forwards stay untouched, and a forward pre-hook reads the
block's input, so masked and unmasked forwards, ViT and Swin take the same path.
"""
from typing import Any, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmpretrain.models.backbones.swin_transformer import SwinBlock
from torch import Tensor, nn


def attention_blocks(encoder: nn.Module) -> List[nn.Module]:
    """The encoder's transformer blocks in forward order (Swin: every stage's, flattened)."""
    if hasattr(encoder, 'stages'):
        return [block for stage in encoder.stages for block in stage.blocks]
    return list(encoder.layers)


def block_stage(encoder: nn.Module, index: int) -> int:
    """The Swin stage that holds block ``index`` of :func:`attention_blocks` (ViT: 0)."""
    if not hasattr(encoder, 'stages'):
        return 0
    index %= len(attention_blocks(encoder))
    for stage, module in enumerate(encoder.stages):
        if index < len(module.blocks):
            return stage
        index -= len(module.blocks)
    raise IndexError(index)


def is_pre_norm_block(block: nn.Module) -> bool:
    """Blocks whose attention reads a LayerNorm of the block input through one qkv Linear:
    the ViTs' (``ln1``, ``attn.qkv``) and Swin v1's. SwinV2's blocks normalise after the
    attention (res-post-norm) and use cosine attention, so they have no such q / k / v."""
    if isinstance(block, SwinBlock):
        return True
    return hasattr(block, 'ln1') and hasattr(getattr(block, 'attn', None), 'qkv')


def _attention(block: nn.Module) -> nn.Module:
    return block.attn.w_msa if isinstance(block, SwinBlock) else block.attn


def block_num_heads(block: nn.Module) -> int:
    return _attention(block).num_heads


def block_window(block: nn.Module) -> Optional[int]:
    """A Swin block's window size; None for a ViT block (it attends to all tokens)."""
    return block.attn.window_size if isinstance(block, SwinBlock) else None


class _BlockReached(Exception):
    """Raised by the pre-hook to end an encoder's forward at the watched block."""


def run_to_block(encoder: nn.Module,
                 block: nn.Module,
                 images: Tensor,
                 mask: Optional[Tensor] = None,
                 stop: bool = True) -> Tuple[tuple, Any]:
    """Run ``encoder(images, mask)`` and return the positional arguments ``block`` was called
    with (its input tokens; Swin also passes the (H, W) of its map) and the encoder's
    outputs. With ``stop`` the forward ends at the block (outputs None): the blocks after it
    and the block itself cost nothing, as in TinyMIM where the student stops there."""
    seen = {}

    def record(module, args):
        seen['args'] = args
        if stop:
            raise _BlockReached

    handle = block.register_forward_pre_hook(record)
    try:
        outputs = encoder(images, mask)
    except _BlockReached:
        outputs = None
    finally:
        handle.remove()
    if 'args' not in seen:
        raise RuntimeError(f'{type(encoder).__name__} never called the watched block')
    return seen['args'], outputs


def window_partition(tokens: Tensor, hw: Tuple[int, int], window: int) -> Tensor:
    """(B, H*W, C) tokens in row-major order -> (B * windows, window**2, C), non-shifted
    windows in row-major order, the tokens of each window row-major."""
    height, width = hw
    if height % window or width % window:
        raise ValueError(f'window {window} does not tile the {height}x{width} map')
    batch, _, channels = tokens.shape
    grid = tokens.view(batch, height // window, window, width // window, window, channels)
    return grid.permute(0, 1, 3, 2, 4, 5).reshape(-1, window * window, channels)


def block_qkv(block: nn.Module,
              tokens: Tensor,
              hw: Optional[Tuple[int, int]] = None) -> Tuple[Tensor, Tensor, Tensor]:
    """q, k, v of ``block`` for its input ``tokens`` (B, N, C): the block's pre-norm, then its
    qkv projection with its biases (the BEiT-style ViT's q / v biases, no k bias), split
    into heads: each (B', heads, N', C / heads). A Swin block's tokens are grouped into its
    (non-shifted) windows of its (H, W) map ``hw``: B' = B * windows, N' = window**2. No
    scaling, position bias or shift mask: the raw projections."""
    if not is_pre_norm_block(block):
        raise TypeError(f'{type(block).__name__} is not a pre-norm attention block')
    attn = _attention(block)
    norm = block.norm1 if isinstance(block, SwinBlock) else block.ln1
    q_bias = getattr(attn, 'q_bias', None)
    if q_bias is not None:
        bias = torch.cat((q_bias, torch.zeros_like(attn.v_bias), attn.v_bias))
    else:
        bias = attn.qkv.bias
    qkv = F.linear(norm(tokens), attn.qkv.weight, bias)
    if isinstance(block, SwinBlock):
        window = block.attn.window_size
        qkv = window_partition(qkv, hw, min(window, *hw))
    batch, length, _ = qkv.shape
    q, k, v = qkv.reshape(batch, length, 3, attn.num_heads, -1).permute(2, 0, 3, 1, 4)
    return q, k, v


def qkv_at_block(encoder: nn.Module,
                 block: nn.Module,
                 images: Tensor,
                 mask: Optional[Tensor] = None,
                 stop: bool = True):
    """:func:`block_qkv` of ``block`` on the input it gets in ``encoder(images, mask)``, and
    the encoder's outputs (None with ``stop``, see :func:`run_to_block`)."""
    args, outputs = run_to_block(encoder, block, images, mask, stop=stop)
    hw = args[1] if isinstance(block, SwinBlock) else None
    return block_qkv(block, args[0], hw), outputs
