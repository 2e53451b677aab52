import numpy as np
import torch
from torch import Tensor

from simmim_mm.models.losses import upsample_mask

MASK_FILL = 127  # flat grey shown where the encoder saw the mask token


def denormalize(images: Tensor, mean: Tensor, std: Tensor) -> np.ndarray:
    """(B, C, H, W) normalized -> (B, H, W, 3) uint8; one channel is shown as grey."""
    pixels = (images.float() * std.view(1, -1, 1, 1) + mean.view(1, -1, 1, 1))
    pixels = pixels.clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    if pixels.shape[-1] == 1:
        pixels = pixels.repeat(3, axis=-1)
    return pixels[..., :3]


def reconstruction_grid(inputs: Tensor, reconstruction: Tensor, mask: Tensor, mean: Tensor,
                        std: Tensor) -> np.ndarray:
    """One row per image: original | masked input | reconstruction | reconstruction pasted
    into the visible pixels. ``inputs``/``reconstruction`` are normalized (B, C, H, W),
    ``mask`` is (B, h, w) on the patch grid; returns an RGB uint8 array."""
    pixel_mask = upsample_mask(mask, inputs.shape[-2:]).cpu().numpy()[:, 0, :, :, None] > 0
    original = denormalize(inputs, mean, std)
    rebuilt = denormalize(reconstruction, mean, std)
    masked = np.where(pixel_mask, np.uint8(MASK_FILL), original)
    pasted = np.where(pixel_mask, rebuilt, original)
    rows = [np.concatenate(panels, axis=1) for panels in zip(original, masked, rebuilt, pasted)]
    return np.concatenate(rows, axis=0)
