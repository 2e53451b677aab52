from typing import Optional, Tuple

import torch
from mmengine.model.weight_init import trunc_normal_
from mmpretrain.models import SwinTransformerV2
from torch import Tensor, nn

from simmim_mm.registry import MODELS


@MODELS.register_module()
class SimMIMSwinTransformerV2(SwinTransformerV2):
    """mmpretrain's SwinV2 with SimMIM's mask token, which replaces the embeddings of masked
    patches after the patch-embed norm, as in microsoft/Swin-Transformer's
    SwinTransformerV2ForSimMIM.

    Initialised as the official SwinV2: Linear weights normal(0, 0.02) truncated at +-2,
    LayerNorms 1 / 0, then each block's post-norms (res-post-norm) zeroed so that every block
    starts as the identity.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, self.embed_dims))

    def init_weights(self) -> None:
        if isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            return super().init_weights()
        super().init_weights()
        for module in self.modules():
            if isinstance(module, nn.Linear):
                trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        for stage in self.stages:
            for block in stage.blocks:
                for norm in (block.norm1, block.norm2):
                    nn.init.zeros_(norm.weight)
                    nn.init.zeros_(norm.bias)
        trunc_normal_(self.mask_token, std=0.02)

    def forward(self, x: Tensor, mask: Optional[Tensor] = None) -> Tuple[Tensor, ...]:
        if mask is None:
            return super().forward(x)
        x, hw_shape = self.patch_embed(x)
        w = mask.flatten(1).unsqueeze(-1).type_as(x)
        x = x * (1. - w) + self.mask_token.to(x.dtype) * w
        if self.use_abs_pos_embed:
            x = x + self.absolute_pos_embed
        x = self.drop_after_pos(x)
        outs = []
        for i, stage in enumerate(self.stages):
            x, hw_shape = stage(x, hw_shape)
            if i in self.out_indices:
                out = getattr(self, f'norm{i}')(x)
                outs.append(
                    out.view(-1, *hw_shape, stage.out_channels).permute(0, 3, 1, 2).contiguous())
        return tuple(outs)
