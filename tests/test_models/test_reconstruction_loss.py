import pytest
import torch

from simmim_mm.models import SimMIMReconstructionLoss


def hand_loss(pred, target, mask, power):
    """Loops over pixels: mean over masked pixels and channels of |pred - target|^power."""
    B, C, H, W = target.shape
    patch = H // mask.shape[1]
    total, count = 0.0, 0
    for b in range(B):
        for y in range(H):
            for x in range(W):
                if mask[b, y // patch, x // patch]:
                    count += 1
                    for c in range(C):
                        total += abs(float(pred[b, c, y, x] - target[b, c, y, x]))**power
    return total / (count + 1e-5) / C


@pytest.mark.parametrize('channels', [1, 3, 5])
@pytest.mark.parametrize('criterion,power', [('L1', 1), ('L2', 2)])
def test_matches_hand_computation_on_masked_pixels_only(channels, criterion, power):
    torch.manual_seed(0)
    pred = torch.randn(2, channels, 8, 8)
    target = torch.randn(2, channels, 8, 8)
    mask = torch.tensor([[[1, 0], [0, 1]], [[0, 0], [1, 0]]])  # patch grid 2x2, patch 4 px
    loss = SimMIMReconstructionLoss(criterion)(pred, target, mask)
    assert loss.item() == pytest.approx(hand_loss(pred, target, mask, power), rel=1e-5)

    # the visible pixels do not count at all
    changed = pred.clone()
    changed[0, :, 0:4, 4:8] += 100.0  # patch (0, 1) of image 0 is visible
    assert SimMIMReconstructionLoss(criterion)(changed, target, mask).item() == \
        pytest.approx(loss.item(), rel=1e-6)


def test_no_masked_pixel_gives_zero_not_nan():
    loss = SimMIMReconstructionLoss()(torch.ones(1, 3, 4, 4), torch.zeros(1, 3, 4, 4),
                                      torch.zeros(1, 2, 2))
    assert loss.item() == 0.0


def test_bfloat16_prediction_is_scored_in_float32():
    pred = torch.randn(2, 3, 8, 8)
    target = torch.randn(2, 3, 8, 8)
    mask = torch.ones(2, 2, 2)
    loss = SimMIMReconstructionLoss()(pred.bfloat16(), target, mask)
    assert loss.dtype == torch.float32


def test_unknown_criterion_is_named():
    with pytest.raises(ValueError, match="'L3'"):
        SimMIMReconstructionLoss('L3')


def hand_normalized_targets(x, k):
    """Per pixel: mean and unbiased variance of the in-image k x k neighbourhood."""
    out = torch.empty_like(x)
    r = k // 2
    B, C, H, W = x.shape
    for b in range(B):
        for c in range(C):
            for y in range(H):
                for z in range(W):
                    window = x[b, c, max(0, y - r):y + r + 1, max(0, z - r):z + r + 1].double()
                    var = window.var(unbiased=True) if window.numel() > 1 else 0.0
                    out[b, c, y, z] = (x[b, c, y, z] - window.mean()) / (var + 1e-6)**0.5
    return out


@pytest.mark.parametrize('window', [3, 5])
def test_normalized_targets_match_hand_computation_including_borders(window):
    from simmim_mm.models.losses import normalize_targets
    torch.manual_seed(0)
    x = torch.randn(2, 2, 6, 7) * 3 + 1
    torch.testing.assert_close(
        normalize_targets(x, window), hand_normalized_targets(x, window), rtol=1e-4, atol=1e-4)


def test_normalized_target_loss_scores_against_normalized_pixels():
    from simmim_mm.models.losses import normalize_targets
    torch.manual_seed(0)
    pred, target = torch.randn(1, 3, 8, 8), torch.randn(1, 3, 8, 8)
    mask = torch.tensor([[[1, 0], [1, 1]]])
    loss = SimMIMReconstructionLoss('L1', norm_target_window=3)(pred, target, mask)
    expected = hand_loss(pred, normalize_targets(target, 3), mask, 1)
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert SimMIMReconstructionLoss('L1')(pred, target, mask).item() != pytest.approx(expected)
    with pytest.raises(ValueError, match='norm_target_window'):
        SimMIMReconstructionLoss(norm_target_window=4)
