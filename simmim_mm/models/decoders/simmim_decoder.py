from torch import Tensor, nn

from simmim_mm.registry import MODELS


@MODELS.register_module()
class SimMIMDecoder(nn.Module):
    """SimMIM's one-layer prediction head: a 1x1 conv to ``encoder_stride**2 * out_channels``
    then PixelShuffle, turning the last feature map back into pixels.

    ``in_channels`` and ``out_channels`` default to the encoder's width and the image's
    channel count, filled in by :class:`SimMIM`. Keys ``decoder.0.{weight,bias}`` match the
    official and mmpretrain checkpoints.
    """

    def __init__(self, in_channels: int, encoder_stride: int, out_channels: int = 3):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.encoder_stride = encoder_stride
        self.decoder = nn.Sequential(
            nn.Conv2d(in_channels, encoder_stride**2 * out_channels, kernel_size=1),
            nn.PixelShuffle(encoder_stride))

    def forward(self, x: Tensor) -> Tensor:
        return self.decoder(x)
