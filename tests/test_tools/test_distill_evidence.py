"""tools/analysis/distill_evidence.py's probe pieces on tiny inputs, against hand computations
(its metrics are simmim_mm.evaluation's, tested in tests/test_evaluation; the training runs
themselves are tools/train.py's, tested elsewhere)."""
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


class FixedLossDistiller:
    """Stands in for the relations distiller: its loss is the batch's mean pixel value in
    loss_qk and twice that in loss_vv, so the per-image average is known in advance."""

    def data_preprocessor(self, batch, training):
        return dict(inputs=batch['inputs'].float(), data_samples=batch['data_samples'])

    def loss(self, inputs, data_samples):
        mean = inputs.mean()
        return dict(loss_qk=mean, loss_vv=2 * mean)


def test_held_out_relation_loss_averages_over_images_not_batches():
    # 20 images: batches of 16 and 4; image i is filled with the value i
    images = torch.arange(20).view(20, 1, 1, 1).expand(20, 3, 2, 2).to(torch.uint8)
    loss = evidence.held_out_relation_loss(FixedLossDistiller(), images)
    assert loss == pytest.approx(3 * np.arange(20).mean())  # not the mean of batch means


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
    assert options == [
        f'model.backbone.arch.embed_dims={arch.embed_dims}', 'model.backbone.arch.depths=[1,1,1,1]',
        'model.backbone.arch.num_heads=[3,6,12,24]'
    ]


@pytest.mark.parametrize('per_half', [2])
def test_photo_crops_split_by_half(per_half):
    images, labels, folds = evidence.photo_crops(32, per_half)
    photos = len(evidence.SKIMAGE_HELD_OUT) + len(evidence.MATPLOTLIB_HELD_OUT)
    assert images.shape == (photos * 2 * per_half, 3, 32, 32)
    assert labels.bincount().tolist() == [2 * per_half] * photos
    assert folds.tolist() == ([0] * per_half + [1] * per_half) * photos
