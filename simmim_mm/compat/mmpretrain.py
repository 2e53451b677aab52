"""Workarounds for mmpretrain 1.2.0 (its last release) behaviour.

tests/test_compat/test_mmpretrain.py holds the tests that fail once mmpretrain behaves, so that
the workaround can go.
"""
from torch import nn


def use_shift_window_attention(block: nn.Module, attention: type) -> None:
    """Make ``block.attn`` (an mmpretrain ``ShiftWindowMSA``) an instance of ``attention``, a
    subclass that adds behaviour and no state: same parameters, buffers and random draws.

    mmpretrain 1.2.0's ``SwinBlock`` builds ``ShiftWindowMSA`` by name (its ``attn_cfgs``
    configure only the inner window attention, ``window_msa``), so a subclass cannot be
    chosen by config. Building a replacement instead would draw its weights from the random
    generator a second time and shift every later initialisation.
    """
    if not issubclass(attention, type(block.attn)):
        raise TypeError(f'{attention.__name__} does not extend {type(block.attn).__name__}, '
                        f'the attention mmpretrain built for {type(block).__name__}')
    block.attn.__class__ = attention
