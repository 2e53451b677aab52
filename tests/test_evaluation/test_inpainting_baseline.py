"""The classical infills and the masked L1 that InpaintingBaselineHook scores them with,
against hand computations on tiny images."""
import cv2
import numpy as np
import pytest
import torch

from simmim_mm.evaluation.inpainting_baseline import inpaint_infill, masked_l1, mean_colour_infill
from simmim_mm.models.losses import SimMIMReconstructionLoss

# two 4x4 images on a 2x2 patch grid (patches of 2x2 pixels), 1 = masked
MASK = torch.tensor([[[1, 0], [0, 0]], [[0, 1], [1, 1]]])


def pixel_mask_by_hand(mask: np.ndarray, patch: int) -> np.ndarray:
    return np.kron(mask, np.ones((patch, patch), dtype=mask.dtype)).astype(bool)


def test_masked_l1_by_hand():
    generator = torch.Generator().manual_seed(0)
    prediction = torch.randn(2, 3, 4, 4, generator=generator)
    target = torch.randn(2, 3, 4, 4, generator=generator)
    total, count = 0.0, 0
    for b in range(2):
        masked = pixel_mask_by_hand(MASK[b].numpy(), 2)
        for c in range(3):
            for y in range(4):
                for x in range(4):
                    if masked[y, x]:
                        total += abs(float(prediction[b, c, y, x] - target[b, c, y, x]))
                        count += 1
    assert count == (1 + 3) * 4 * 3
    assert masked_l1(prediction, target, MASK) == pytest.approx(total / count, rel=1e-6)
    # the SimMIM training loss, up to its 1e-5 guard
    loss = SimMIMReconstructionLoss('L1')(prediction, target, MASK)
    assert masked_l1(prediction, target, MASK) == pytest.approx(float(loss), rel=1e-5)


def test_masked_l1_ignores_visible_pixels():
    target = torch.zeros(2, 1, 4, 4)
    prediction = target.clone()
    visible = ~torch.from_numpy(np.stack([pixel_mask_by_hand(m, 2) for m in MASK.numpy()]))
    prediction[:, 0][visible] = 100.0
    assert masked_l1(prediction, target, MASK) == 0.0


def test_mean_colour_infill_by_hand():
    images = torch.arange(2 * 2 * 4 * 4, dtype=torch.float32).reshape(2, 2, 4, 4)**1.5
    filled = mean_colour_infill(images, MASK)
    for b in range(2):
        masked = pixel_mask_by_hand(MASK[b].numpy(), 2)
        for c in range(2):
            channel = images[b, c].numpy()
            visible_values = [channel[y, x] for y in range(4) for x in range(4) if not masked[y, x]]
            mean = sum(visible_values) / len(visible_values)
            np.testing.assert_allclose(filled[b, c].numpy()[masked], mean, rtol=1e-6)
            np.testing.assert_array_equal(filled[b, c].numpy()[~masked], channel[~masked])


def test_inpaint_infill_keeps_visible_and_fills_masked():
    # flat colours per channel (4 channels: OpenCV alone takes 1 or 3), the masked pixels
    # scribbled over: inpainting from flat surroundings gives back about the flat colour
    # (Telea's gradient term wobbles by a few levels)
    colours = torch.tensor([10, 80, 160, 240], dtype=torch.uint8)
    images = colours.view(1, 4, 1, 1).repeat(2, 1, 16, 16)
    mask = torch.tensor([[[1, 0], [0, 0]], [[0, 0], [0, 1]]])  # 8x8 pixel blocks
    masked = torch.from_numpy(np.stack([pixel_mask_by_hand(m, 8) for m in mask.numpy()]))
    scribbled = images.clone()
    scribbled.permute(0, 2, 3, 1)[masked] = torch.tensor([255, 0, 255, 0], dtype=torch.uint8)
    filled = inpaint_infill(scribbled, mask, radius=3)
    assert filled.dtype == torch.uint8 and filled.shape == images.shape
    pixels, before = filled.permute(0, 2, 3, 1), scribbled.permute(0, 2, 3, 1)
    assert torch.equal(pixels[~masked], before[~masked])
    assert (filled.int() - images.int()).abs().max() <= 8  # the scribble was >= 80 off


def test_inpaint_infill_is_opencvs_colour_inpainting():
    rng = np.random.default_rng(0)
    picture = cv2.GaussianBlur(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), (7, 7), 2)
    mask = torch.tensor([[[0, 1], [1, 0]]])
    pixel_mask = pixel_mask_by_hand(mask[0].numpy(), 16).astype(np.uint8)
    expected = cv2.inpaint(picture, pixel_mask, 5, cv2.INPAINT_TELEA)
    filled = inpaint_infill(torch.from_numpy(picture).permute(2, 0, 1)[None], mask)
    np.testing.assert_array_equal(filled[0].permute(1, 2, 0).numpy(), expected)
    assert (expected[pixel_mask > 0] != picture[pixel_mask > 0]).any()


def test_inpaint_infill_takes_uint8_only():
    with pytest.raises(TypeError, match='uint8'):
        inpaint_infill(torch.zeros(1, 3, 4, 4), MASK[:1])
