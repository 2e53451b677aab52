"""MultiChannelDataPreprocessor: one mean / std per band, for any number of bands."""
import numpy as np
import pytest
import torch
from mmpretrain.structures import DataSample

from simmim_mm.registry import MODELS


def preprocess(inputs, **cfg):
    preprocessor = MODELS.build(dict(type='MultiChannelDataPreprocessor', **cfg))
    data = dict(inputs=inputs, data_samples=[DataSample() for _ in range(len(inputs))])
    return preprocessor(data)['inputs']


def test_each_of_5_bands_is_normalized_by_its_own_mean_and_std():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 65535, (2, 5, 8, 6)).astype(np.uint16)
    mean, std = [100.0, 2000.0, 30000.0, 4.0, 50.0], [10.0, 20.0, 300.0, 0.5, 1.0]
    out = preprocess(torch.from_numpy(images), mean=mean, std=std, to_rgb=False)
    expected = (images.astype(np.float64) - np.reshape(mean,
                                                       (5, 1, 1))) / np.reshape(std, (5, 1, 1))
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)


def test_one_and_three_values_behave_as_mmpretrains():
    images = torch.arange(2 * 3 * 4 * 4, dtype=torch.uint8).reshape(2, 3, 4, 4)
    cfg = dict(mean=[1.0, 2.0, 3.0], std=[2.0, 4.0, 8.0], to_rgb=True)
    theirs = MODELS.build(dict(type='mmpretrain.SelfSupDataPreprocessor', **cfg))
    data = dict(inputs=images, data_samples=[DataSample(), DataSample()])
    assert torch.equal(preprocess(images, **cfg), theirs(data)['inputs'])


def test_mismatched_lengths_are_named():
    with pytest.raises(ValueError, match=r'data_preprocessor\.mean has 5 values, std 3'):
        preprocess(torch.zeros(1, 5, 2, 2), mean=[0.0] * 5, std=[1.0] * 3)
    with pytest.raises(ValueError, match='both mean and std'):
        preprocess(torch.zeros(1, 5, 2, 2), mean=[0.0] * 5)
