"""Linear CKA against its kernel form (HSIC of linear Gram matrices, computed in NumPy), a
small case by hand, and the invariances that make it a neutral measure."""
import numpy as np
import pytest
import torch

from simmim_mm.evaluation import linear_cka


def hsic_cka(x: np.ndarray, y: np.ndarray) -> float:
    """CKA as Kornblith et al. define it: HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)) with
    K = X X^T, L = Y Y^T and HSIC(K, L) = tr(K H L H), H the centring matrix."""
    n = len(x)
    h = np.eye(n) - np.ones((n, n)) / n

    def hsic(gram_a, gram_b):
        return np.trace(gram_a @ h @ gram_b @ h)

    gram_x, gram_y = x @ x.T, y @ y.T
    return hsic(gram_x, gram_y) / np.sqrt(hsic(gram_x, gram_x) * hsic(gram_y, gram_y))


def test_by_hand():
    # centred columns x = (-1, 0, 1), y = (-1, 0, 1) and (1, -2, 1): y^T x = (2, 0),
    # x^T x = 2, y^T y = diag(2, 6): CKA = 4 / (2 * sqrt(4 + 36))
    x = torch.tensor([[0.], [1.], [2.]])
    y = torch.tensor([[-1., 1.], [0., -2.], [1., 1.]])
    assert linear_cka(x, y) == pytest.approx(4 / (2 * 40**0.5))


@pytest.mark.parametrize('d1, d2', [(4, 4), (3, 7), (8, 2)])
def test_matches_the_kernel_form(d1, d2):
    rng = np.random.default_rng(d1 * 10 + d2)
    x = rng.normal(size=(20, d1))
    y = x[:, :1] * rng.normal(size=(1, d2)) + rng.normal(size=(20, d2))  # partly related
    expected = hsic_cka(x, y)
    assert 0.05 < expected < 0.95
    assert linear_cka(torch.from_numpy(x).float(), torch.from_numpy(y).float()) == \
        pytest.approx(expected, rel=1e-5)


def test_one_for_itself_an_orthogonal_transform_and_a_scaling():
    torch.manual_seed(0)
    features = torch.randn(50, 4)
    rotation, _ = torch.linalg.qr(torch.randn(4, 4))
    assert linear_cka(features, features) == pytest.approx(1.0)
    assert linear_cka(features, features @ rotation) == pytest.approx(1.0)
    assert linear_cka(features, 3 * features @ rotation + 5) == pytest.approx(1.0)
    # symmetric, and near 0 for unrelated features
    other = torch.randn(50, 6)
    assert linear_cka(features, other) == pytest.approx(linear_cka(other, features))
    assert linear_cka(torch.randn(2000, 4), torch.randn(2000, 4)) < 0.02


def test_refuses_features_of_different_samples():
    with pytest.raises(ValueError, match=r'same n samples, got \(3, 2\) and \(4, 2\)'):
        linear_cka(torch.zeros(3, 2), torch.zeros(4, 2))
