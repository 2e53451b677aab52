from typing import Dict, List, Optional, Union

import torch
from mmpretrain.models.selfsup import BaseSelfSupervisor
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from simmim_mm.registry import MODELS


def encoder_width(encoder: nn.Module) -> int:
    """Channels of the encoder's last feature map (Swin's last stage, ViT's embedding)."""
    if hasattr(encoder, 'stages'):
        return encoder.stages[-1].out_channels
    return encoder.embed_dims


def encoder_in_channels(encoder: nn.Module) -> int:
    return encoder.patch_embed.projection.in_channels


def check_windows_tile(encoder: nn.Module) -> None:
    """Swin's attention windows must tile every stage's feature map, or equal it: the official
    Swin asserts so, while mmpretrain's would silently pad the map (or fail mid-forward)."""
    if not hasattr(encoder, 'stages') or not hasattr(encoder, 'patch_resolution'):
        return
    height, width = encoder.patch_resolution
    for i, stage in enumerate(encoder.stages):
        attn = stage.blocks[0].attn
        size = (height // 2**i, width // 2**i)
        if getattr(attn, 'pad_small_map', False):
            continue
        if any(side % attn.window_size or side < attn.window_size for side in size):
            raise ValueError(
                f'model.backbone: window size {attn.window_size} does not tile stage {i}, '
                f'whose feature map is {size[0]}x{size[1]} at this img_size; use a divisor per '
                'stage (e.g. Swin-L at 192 px: windows 12, 12, 12, 6)')


def check_preprocessor_channels(preprocessor: nn.Module, channels: int) -> None:
    """The data preprocessor must normalize images of the encoder's channel count: its
    ``to_rgb`` swap keeps channels 2, 1, 0 only (5 bands would silently become 3, and 1 fails
    on an index), and its mean / std apply one value per channel (or one to all)."""
    if getattr(preprocessor, '_channel_conversion', False) and channels != 3:
        raise ValueError(f'model.data_preprocessor.to_rgb=True swaps 3 colour channels, but '
                         f'model.backbone.in_channels={channels}: set to_rgb=False')
    for name in ('mean', 'std'):
        value = getattr(preprocessor, name, None)
        if getattr(preprocessor, '_enable_normalize', False) and value.numel() not in (1, channels):
            raise ValueError(f'model.data_preprocessor.{name} has {value.numel()} values, but '
                             f'model.backbone.in_channels={channels}: give one per channel '
                             '(tools/analysis/dataset_stats.py computes them)')


@MODELS.register_module()
class SimMIM(BaseSelfSupervisor):
    """SimMIM (Xie et al., CVPR 2022): the encoder sees masked patches as a learnable mask
    token, the one-layer decoder regresses their raw (normalized) pixels.

    ``backbone`` is the encoder, ``neck`` the decoder, ``head`` scores the reconstruction
    (``head.loss(pred, target, mask)``), as in mmpretrain, so checkpoint keys (``backbone.*``,
    ``neck.decoder.0.*``) and ``prefix='backbone.'`` loading for fine-tuning work the same. The
    decoder's ``in_channels`` / ``out_channels`` default to the encoder's width and input
    channels.
    """

    def __init__(self,
                 backbone: Union[dict, nn.Module],
                 neck: dict,
                 head: dict,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if isinstance(backbone, dict):
            backbone = MODELS.build(backbone)
        check_windows_tile(backbone)
        if isinstance(neck, dict):
            neck = dict(neck)
            width, channels = encoder_width(backbone), encoder_in_channels(backbone)
            for key, value in (('in_channels', width), ('out_channels', channels)):
                if neck.setdefault(key, value) != value:
                    raise ValueError(f'model.neck.{key}={neck[key]} disagrees with the '
                                     f'encoder ({value}); leave it out to follow the encoder')
            neck = MODELS.build(neck)
        if isinstance(head, dict):
            head = MODELS.build(head)
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        check_preprocessor_channels(self.data_preprocessor, encoder_in_channels(self.backbone))

    def extract_feat(self, inputs: Tensor):
        return self.backbone(inputs, None)

    def reconstruct(self, inputs: Tensor, mask: Tensor) -> Tensor:
        """Reconstruct ``inputs`` (B, C, H, W, normalized) seen through ``mask`` (B, h, w on
        the encoder's patch grid, 1 = masked); returns (B, C, H, W) in normalized space."""
        if inputs.shape[1] != self.neck.out_channels:
            raise ValueError(
                f'images have {inputs.shape[1]} channels but the model takes '
                f'{self.neck.out_channels} (model.backbone.in_channels); match them, e.g. '
                "in_channels=1 with LoadImageFromFileOrSkip(color_type='grayscale')")
        if inputs.shape[-2] % mask.shape[-2] or inputs.shape[-1] % mask.shape[-1]:
            raise ValueError(f'mask of shape {tuple(mask.shape)} does not tile inputs of '
                             f'shape {tuple(inputs.shape)}')
        features = self.backbone(inputs, mask)
        return self.neck(features[-1])

    def loss(self, inputs: Tensor, data_samples: List[DataSample], **kwargs) -> Dict[str, Tensor]:
        mask = torch.stack([sample.mask for sample in data_samples])
        reconstruction = self.reconstruct(inputs, mask)
        return dict(loss=self.head.loss(reconstruction, inputs, mask))

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        """Modes 'tensor' and 'loss' as in mmpretrain; 'predict' (what MMEngine's ValLoop
        calls) scores the reconstruction of each image, see :meth:`predict`."""
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        return super().forward(inputs, data_samples, mode)

    def predict(self, inputs: Tensor, data_samples: List[DataSample], **kwargs) -> List[DataSample]:
        """Sets ``reconstruction_loss`` on each sample: the training loss of that image under
        its mask, so a validation metric can average it over held-out images."""
        mask = torch.stack([sample.mask for sample in data_samples])
        reconstruction = self.reconstruct(inputs, mask)
        for i, sample in enumerate(data_samples):
            loss = self.head.loss(reconstruction[i:i + 1], inputs[i:i + 1], mask[i:i + 1])
            sample.set_field(loss.detach(), 'reconstruction_loss', field_type='data')
        return data_samples
