import pytest
import torch

from simmim_mm.models.utils import resize_relative_position_bias_table as resize


def test_identity_when_sizes_match():
    table = torch.randn(121, 4)
    assert resize(table, 121) is table
    vit = torch.randn(27 * 27 + 3, 12)
    assert resize(vit, 27 * 27 + 3, num_extra_tokens=3) is vit


@pytest.mark.parametrize('src,dst', [(6, 7), (12, 14), (7, 6), (6, 12)])
def test_shapes_and_centre_across_windows(src, dst):
    torch.manual_seed(0)
    table = torch.randn((2 * src - 1)**2, 3)
    out = resize(table, (2 * dst - 1)**2)
    assert out.shape == ((2 * dst - 1)**2, 3)
    # the centre (offset 0, 0) is a node of the spline: its bias is kept exactly
    centre_src, centre_dst = ((2 * src - 1)**2) // 2, ((2 * dst - 1)**2) // 2
    torch.testing.assert_close(out[centre_dst], table[centre_src])
    assert torch.isfinite(out).all()


def test_smooth_table_is_interpolated_smoothly():
    # a table that is a smooth function of the offset stays close to that function
    src, dst = 6, 7
    coords = torch.arange(-(src - 1), src, dtype=torch.float32)
    table = (coords[:, None] * 0.1 + coords[None, :] * 0.05).reshape(-1, 1)
    out = resize(table, (2 * dst - 1)**2).reshape(2 * dst - 1, 2 * dst - 1)
    assert out[dst - 1, dst - 1].item() == pytest.approx(0.0, abs=1e-6)
    rows = out[:, dst - 1]
    assert torch.all(rows[1:] > rows[:-1])  # monotone along the first axis, as the source


def test_vit_keeps_its_cls_token_rows():
    torch.manual_seed(0)
    table = torch.randn(27 * 27 + 3, 2)
    out = resize(table, 31 * 31 + 3, num_extra_tokens=3)
    assert out.shape == (31 * 31 + 3, 2)
    torch.testing.assert_close(out[-3:], table[-3:])


def test_non_square_table_is_refused():
    with pytest.raises(ValueError, match='not square'):
        resize(torch.randn(120, 2), 169)
