"""Linear centred kernel alignment (Kornblith et al., 2019): how alike two encoders'
features of the same images are, with no projector to fit; the measure behind the
distillation evidence's feature match to the teacher."""
from torch import Tensor


def linear_cka(x: Tensor, y: Tensor) -> float:
    """Linear CKA between two sets of features of the same n samples, (n, d1) and (n, d2):
    ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F) on centred columns, in float64; 1 when one is
    a rotation and scaling of the other, near 0 for unrelated features."""
    if x.dim() != 2 or y.dim() != 2 or x.shape[0] != y.shape[0]:
        raise ValueError('linear_cka needs (n, d1) and (n, d2) features of the same n samples, '
                         f'got {tuple(x.shape)} and {tuple(y.shape)}')
    x = x.double() - x.double().mean(0)
    y = y.double() - y.double().mean(0)
    return ((y.T @ x).norm()**2 / ((x.T @ x).norm() * (y.T @ y).norm())).item()
