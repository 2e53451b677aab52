"""tools/analysis/distill_evidence.py's probe pieces on tiny inputs, against hand computations
(the training runs themselves are tools/train.py's, tested elsewhere)."""
import importlib.util
import os.path as osp

import numpy as np
import pytest
import torch

from conftest import REPO_ROOT

spec = importlib.util.spec_from_file_location(
    'distill_evidence', osp.join(REPO_ROOT, 'tools', 'analysis', 'distill_evidence.py'))
evidence = importlib.util.module_from_spec(spec)
spec.loader.exec_module(evidence)


def test_two_fold_knn_by_hand():
    # class 0 points along x, class 1 along y; folds alternate
    features = torch.tensor([[1., 0.1], [0.9, 0.], [0.1, 1.], [0., 0.8]])
    labels = torch.tensor([0, 0, 1, 1])
    folds = torch.tensor([0, 1, 0, 1])
    assert evidence.two_fold_knn(features, labels, folds, k=1) == 100.0
    # relabel point 3: its nearest bank neighbour (point 2, class 1) now disagrees, and point
    # 2's nearest bank neighbour (point 3, class 0) too: 2 of 4 right
    wrong = torch.tensor([0, 0, 1, 0])
    assert evidence.two_fold_knn(features, wrong, folds, k=1) == 50.0


def test_linear_cka_by_hand():
    # centred columns x = (-1, 0, 1), y = (-1, 0, 1) and (1, -2, 1): y^T x = (2, 0),
    # x^T x = 2, y^T y = diag(2, 6): CKA = 4 / (2 * sqrt(4 + 36))
    x = torch.tensor([[0.], [1.], [2.]])
    y = torch.tensor([[-1., 1.], [0., -2.], [1., 1.]])
    assert evidence.linear_cka(x, y) == pytest.approx(4 / (2 * 40 ** 0.5))
    # invariant to a rotation and a scaling of either side
    torch.manual_seed(0)
    features = torch.randn(50, 4)
    rotation, _ = torch.linalg.qr(torch.randn(4, 4))
    assert evidence.linear_cka(features, 3 * features @ rotation) == pytest.approx(1.0)


def test_to_bgr_tensor_matches_the_loader():
    """LoadImageFromFile hands the preprocessor BGR; a red RGB pixel is channel 2."""
    red = np.zeros((4, 4, 3), dtype=np.uint8)
    red[..., 0] = 255
    tensor = evidence.to_bgr_tensor(red, 8)
    assert tensor.shape == (3, 8, 8) and tensor.dtype == torch.uint8
    assert (tensor[2] == 255).all() and (tensor[:2] == 0).all()


def test_student_arch_options_name_the_students_encoder():
    from mmengine.config import Config
    cfg = Config.fromfile(evidence.DISTILL_CONFIGS['relations'])
    options = evidence.student_arch_options(cfg)
    arch = cfg.model.backbone.arch
    assert options == [f'model.backbone.arch.embed_dims={arch.embed_dims}',
                       'model.backbone.arch.depths=[1,1,1,1]',
                       'model.backbone.arch.num_heads=[3,6,12,24]']


@pytest.mark.parametrize('per_half', [2])
def test_photo_crops_split_by_half(per_half):
    images, labels, folds = evidence.photo_crops(32, per_half)
    photos = len(evidence.SKIMAGE_HELD_OUT) + len(evidence.MATPLOTLIB_HELD_OUT)
    assert images.shape == (photos * 2 * per_half, 3, 32, 32)
    assert labels.bincount().tolist() == [2 * per_half] * photos
    assert folds.tolist() == ([0] * per_half + [1] * per_half) * photos
