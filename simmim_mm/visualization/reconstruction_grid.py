import numpy as np
import torch
from torch import Tensor

from simmim_mm.models.losses import upsample_mask

MASK_FILL = 127  # flat grey shown where the encoder saw the mask token


def shows_channelwise(num_channels: int) -> bool:
    """The default view: grey (1 channel) and RGB (3) as pictures, any other channel count
    one channel at a time, since its first three channels need not be colours."""
    return num_channels not in (1, 3)


def denormalize(images: Tensor, mean: Tensor, std: Tensor, channelwise: bool = False) -> np.ndarray:
    """(B, C, H, W) normalized -> uint8 RGB pictures: (B, H, W, 3) showing one channel as grey
    and more as RGB from the first three; with ``channelwise``, (B * C, H, W, 3), each
    channel of each image as its own grey picture (for multi-channel data)."""
    pixels = (images.float() * std.view(1, -1, 1, 1) + mean.view(1, -1, 1, 1))
    pixels = pixels.clamp(0, 255).round().to(torch.uint8).cpu()
    if channelwise:
        pixels = pixels.flatten(0, 1).unsqueeze(1)
    elif pixels.shape[1] == 2:
        raise ValueError('2-channel images have no RGB view: show them channelwise')
    pixels = pixels.permute(0, 2, 3, 1).numpy()
    if pixels.shape[-1] == 1:
        pixels = pixels.repeat(3, axis=-1)
    return pixels[..., :3]


def reconstruction_grid(inputs: Tensor,
                        reconstruction: Tensor,
                        mask: Tensor,
                        mean: Tensor,
                        std: Tensor,
                        channelwise: bool = False) -> np.ndarray:
    """One row per image (per channel of each image with ``channelwise``): original | masked
    input | reconstruction | reconstruction pasted into the visible pixels. ``inputs`` /
    ``reconstruction`` are normalized (B, C, H, W), ``mask`` is (B, h, w) on the patch grid;
    returns an RGB uint8 array."""
    pixel_mask = upsample_mask(mask, inputs.shape[-2:]).cpu().numpy()[:, 0, :, :, None] > 0
    if channelwise:
        pixel_mask = pixel_mask.repeat(inputs.shape[1], axis=0)
    original = denormalize(inputs, mean, std, channelwise)
    rebuilt = denormalize(reconstruction, mean, std, channelwise)
    masked = np.where(pixel_mask, np.uint8(MASK_FILL), original)
    pasted = np.where(pixel_mask, rebuilt, original)
    rows = [np.concatenate(panels, axis=1) for panels in zip(original, masked, rebuilt, pasted)]
    return np.concatenate(rows, axis=0)
