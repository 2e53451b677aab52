from mmengine.registry import FUNCTIONS
from torch import nn

# the transformer blocks of the encoders SimMIM trains (mmpretrain's Swin, SwinV2, BEiT ViT)
ENCODER_BLOCKS = ('SwinBlock', 'SwinBlockV2', 'BEiTTransformerEncoderLayer',
                  'TransformerEncoderLayer')


# MMEngine 0.10.7's FSDP wrapper looks `auto_wrap_policy` up in its root FUNCTIONS registry only
# (scope None), so the policy is registered there, not in simmim_mm's child registry
# (expiry test: tests/test_compat/test_mmengine.py)
@FUNCTIONS.register_module()
def encoder_block_wrap_policy(module: nn.Module,
                              recurse: bool,
                              nonwrapped_numel: int,
                              block_types=ENCODER_BLOCKS) -> bool:
    """FSDP auto-wrap policy: one FSDP unit per transformer block, so that only one block's
    full parameters exist at a time in forward and backward (wrapping the root alone would
    gather the whole encoder at once)."""
    return recurse or type(module).__name__ in block_types
