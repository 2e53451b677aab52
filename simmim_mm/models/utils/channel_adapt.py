"""Fit an RGB checkpoint to a one-channel (grayscale) model: the patch embedding's input and
the SimMIM decoder's output. Medical and inspection images are often grayscale while the
published checkpoints are RGB.

A grayscale image seen as three equal channels gives the RGB patch embedding the same output
as its kernels summed over the channels applied to the one channel (what timm's
``adapt_input_conv`` does). The decoder predicts R, G and B of a pixel; the one-channel
prediction is their mean, not their sum. Both are exact for an image whose channels are equal
and normalised alike; with per-channel RGB normalisation they start close, not equal.
"""
from torch import Tensor

RGB = 3


def channel_mismatch(kind: str, have: int, want: int) -> ValueError:
    return ValueError(
        f'the checkpoint\'s {kind} has {have} channels, model.backbone.in_channels={want}: '
        f'only RGB (3) to one channel (grayscale) is adapted; set model.backbone.in_channels='
        f'{have} and load the images with {have} channels, or start from scratch')


def sum_input_channels(weight: Tensor, channels: int) -> Tensor:
    """A patch embedding's (out, 3, k, k) kernel for ``channels`` = 1 input channel."""
    if weight.shape[1] != RGB or channels != 1:
        raise channel_mismatch('patch embedding', weight.shape[1], channels)
    return weight.sum(dim=1, keepdim=True)


def average_output_channels(tensor: Tensor, rows_per_channel: int, channels: int) -> Tensor:
    """A 1x1 conv's weight or bias whose output rows feed PixelShuffle, channel-major (rows
    ``c * r^2`` to ``(c + 1) * r^2`` are channel c), for ``channels`` = 1 output channel."""
    have = tensor.shape[0] // rows_per_channel
    if have != RGB or channels != 1:
        raise channel_mismatch('decoder', have, channels)
    return tensor.reshape(RGB, rows_per_channel, *tensor.shape[1:]).mean(dim=0)
