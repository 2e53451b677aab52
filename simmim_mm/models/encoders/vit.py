from typing import Optional, Tuple

from mmengine.model.weight_init import trunc_normal_
from mmpretrain.models.selfsup import BEiTPretrainViT
from torch import Tensor, nn

from simmim_mm.registry import MODELS


def _clipped_trunc_normal_(tensor: Tensor, std: float = 0.02) -> None:
    """The official ViT's init: normal(0, std) truncated at one std."""
    trunc_normal_(tensor, mean=0.0, std=std, a=-std, b=std)


@MODELS.register_module()
class SimMIMViT(BEiTPretrainViT):
    """The official SimMIM ViT, on mmpretrain's BEiT-style ViT: 16 px patches (no patch norm),
    no absolute position embedding, one relative position bias shared by all blocks, q/v bias
    without k bias, layer scale 0.1, final LayerNorm (eps 1e-6) and a learnable mask token.

    With a mask, returns the patch tokens (cls token dropped) as a (B, C, H/16, W/16) map for
    the decoder. Weights are initialised as the official code does: every Linear / Conv2d,
    the cls token and the mask token from a normal(0, 0.02) truncated to +-0.02, then each
    block's output projections scaled by 1/sqrt(2 * depth).
    """

    def __init__(self,
                 arch: str = 'base',
                 img_size: int = 224,
                 patch_size: int = 16,
                 drop_path_rate: float = 0.1,
                 layer_scale_init_value: float = 0.1,
                 **kwargs):
        super().__init__(
            arch=arch,
            img_size=img_size,
            patch_size=patch_size,
            drop_path_rate=drop_path_rate,
            layer_scale_init_value=layer_scale_init_value,
            use_abs_pos_emb=False,
            use_rel_pos_bias=False,
            use_shared_rel_pos_bias=True,
            out_type='raw',
            **kwargs)

    def init_weights(self) -> None:
        if isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            return super().init_weights()
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Conv2d)):
                _clipped_trunc_normal_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        _clipped_trunc_normal_(self.cls_token)
        _clipped_trunc_normal_(self.mask_token)
        self.rescale_init_weight()
        self.is_init = True

    def forward(self, x: Tensor, mask: Optional[Tensor] = None) -> Tuple[Tensor]:
        if mask is None:
            return super().forward(x, None)
        grid = (x.shape[-2] // self.patch_embed.projection.stride[0],
                x.shape[-1] // self.patch_embed.projection.stride[1])
        tokens = super().forward(x, mask)[-1][:, self.num_extra_tokens:]
        return (tokens.transpose(1, 2).reshape(x.shape[0], -1, *grid), )
