import numpy as np
import pytest
import torch

from simmim_mm.visualization import denormalize, reconstruction_grid
from simmim_mm.visualization.reconstruction_grid import MASK_FILL

MEAN = torch.tensor([123.675, 116.28, 103.53])
STD = torch.tensor([58.395, 57.12, 57.375])


def test_panels_show_original_masked_reconstruction_and_pasted():
    torch.manual_seed(0)
    inputs = torch.randn(2, 3, 16, 16)
    rec = torch.randn(2, 3, 16, 16)
    mask = torch.zeros(2, 4, 4, dtype=torch.long)
    mask[0, 0, 0] = mask[1, 2, 3] = 1  # 4x4-pixel patches
    grid = reconstruction_grid(inputs, rec, mask, MEAN, STD)
    assert grid.shape == (2 * 16, 4 * 16, 3) and grid.dtype == np.uint8

    original, rebuilt = denormalize(inputs, MEAN, STD), denormalize(rec, MEAN, STD)
    pixel_mask = np.zeros((2, 16, 16), bool)
    pixel_mask[0, 0:4, 0:4] = pixel_mask[1, 8:12, 12:16] = True
    for b in range(2):
        row = grid[16 * b:16 * (b + 1)]
        panels = [row[:, 16 * i:16 * (i + 1)] for i in range(4)]
        np.testing.assert_array_equal(panels[0], original[b])
        np.testing.assert_array_equal(panels[2], rebuilt[b])
        m = pixel_mask[b]
        assert (panels[1][m] == MASK_FILL).all()
        np.testing.assert_array_equal(panels[1][~m], original[b][~m])
        np.testing.assert_array_equal(panels[3][~m], original[b][~m])
        np.testing.assert_array_equal(panels[3][m], rebuilt[b][m])


def test_denormalize_inverts_the_data_preprocessor():
    pixels = torch.randint(0, 256, (1, 3, 4, 4)).float()
    normalized = (pixels - MEAN.view(1, 3, 1, 1)) / STD.view(1, 3, 1, 1)
    np.testing.assert_array_equal(
        denormalize(normalized, MEAN, STD),
        pixels.permute(0, 2, 3, 1).numpy().astype(np.uint8))


def test_one_channel_is_shown_grey():
    out = denormalize(torch.zeros(1, 1, 4, 4), torch.tensor([100.0]), torch.tensor([1.0]))
    assert out.shape == (1, 4, 4, 3) and (out == 100).all()


def test_channelwise_grid_has_a_grey_row_per_channel():
    torch.manual_seed(0)
    inputs, rec = torch.randn(2, 4, 8, 8), torch.randn(2, 4, 8, 8)
    mask = torch.zeros(2, 2, 2, dtype=torch.long)
    mask[0, 0, 0] = mask[1, 1, 1] = 1
    mean, std = torch.tensor([100.0]), torch.tensor([50.0])
    grid = reconstruction_grid(inputs, rec, mask, mean, std, channelwise=True)
    assert grid.shape == (2 * 4 * 8, 4 * 8, 3)
    assert (grid[..., 0] == grid[..., 1]).all() and (grid[..., 0] == grid[..., 2]).all()
    channels = denormalize(inputs, mean, std, channelwise=True)[..., 0]  # (B * C, H, W)
    for row in range(8):
        b, c = divmod(row, 4)
        panel = grid[8 * row:8 * (row + 1)]
        expected = (inputs[b, c] * 50 + 100).clamp(0, 255).round().numpy()
        np.testing.assert_array_equal(panel[:, :8, 0], expected)
        np.testing.assert_array_equal(channels[row], expected)
        hidden = np.zeros((8, 8), bool)
        hidden[(0, 4)[b]:(4, 8)[b], (0, 4)[b]:(4, 8)[b]] = True  # image b's masked patch
        assert (panel[:, 8:16][hidden] == MASK_FILL).all()
        np.testing.assert_array_equal(panel[:, 24:32][~hidden], panel[:, :8][~hidden])


def test_two_channels_have_no_rgb_view():
    with pytest.raises(ValueError, match='channelwise'):
        denormalize(torch.zeros(1, 2, 4, 4), torch.tensor([0.0]), torch.tensor([1.0]))
