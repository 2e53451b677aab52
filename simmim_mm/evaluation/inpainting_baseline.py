"""Classical infills to put a SimMIM reconstruction loss in context: a model whose masked L1
is not below what OpenCV's inpainting gets from the same visible pixels has not yet learned
more than smooth continuation."""
import cv2
import numpy as np
import torch
from torch import Tensor

from simmim_mm.models.losses import upsample_mask


def pixel_mask_of(mask: Tensor, size) -> Tensor:
    """(B, h, w) patch-grid mask (1 = masked) -> (B, H, W) bool pixel mask."""
    return upsample_mask(mask, size)[:, 0] > 0


def masked_l1(prediction: Tensor, target: Tensor, mask: Tensor) -> float:
    """Mean |prediction - target| over the masked pixels and the channels, as the SimMIM L1
    loss computes it (without its 1e-5 guard). ``prediction``, ``target`` (B, C, H, W);
    ``mask`` (B, h, w) on any grid that tiles the image, 1 = masked."""
    pixel_mask = pixel_mask_of(mask, target.shape[-2:]).unsqueeze(1).float()
    error = (prediction.float() - target.float()).abs() * pixel_mask
    return float(error.sum() / (pixel_mask.sum() * target.shape[1]))


def mean_colour_infill(images: Tensor, mask: Tensor) -> Tensor:
    """``images`` (B, C, H, W) with each image's masked pixels set to the mean of its visible
    pixels, per channel: the best flat fill that ignores where a block is."""
    pixel_mask = pixel_mask_of(mask, images.shape[-2:]).unsqueeze(1)
    visible = (~pixel_mask).float()
    mean = (images.float() * visible).sum((2, 3), keepdim=True) / visible.sum((2, 3), keepdim=True)
    return torch.where(pixel_mask, mean.to(images.dtype), images)


def inpaint_infill(images: Tensor,
                   mask: Tensor,
                   radius: float = 5,
                   method: int = cv2.INPAINT_TELEA) -> Tensor:
    """``images`` (B, C, H, W) uint8 with the masked pixels filled by ``cv2.inpaint`` (Telea's
    fast marching by default) from the visible ones; visible pixels are returned unchanged.
    Channels are inpainted one at a time, so any channel count works (OpenCV takes 1 or 3)."""
    if images.dtype != torch.uint8:
        raise TypeError(f'inpaint_infill takes uint8 images, got {images.dtype}')
    pixel_masks = pixel_mask_of(mask, images.shape[-2:]).cpu().numpy().astype(np.uint8)
    filled = images.cpu().numpy().copy()
    for image, pixel_mask in zip(filled, pixel_masks):
        for channel in image:
            channel[...] = cv2.inpaint(np.ascontiguousarray(channel), pixel_mask, radius, method)
    return torch.from_numpy(filled).to(images.device)
