import math

import numpy as np
import pytest

from simmim_mm.datasets import SimMIMMaskGenerator


def draw(gen, shape=None):
    shape = shape or gen.input_size
    return gen.transform({'img': np.zeros((*shape, 3), np.uint8)})['mask']


@pytest.mark.parametrize(
    'input_size,mask_patch,model_patch,ratio,grid,masked',
    [
        (192, 32, 4, 0.6, (48, 48), 22),  # Swin at 192: 22 of 36 blocks
        (224, 32, 16, 0.6, (14, 14), 30),  # ViT/16 at 224: 30 of 49 blocks
        (224, 32, 4, 0.6, (56, 56), 30),
        ((192, 256), 32, 4, 0.6, (48, 64), 29),  # non-square: ceil(48 * 0.6) = 29 of 48
        (192, 32, 4, 0.75, (48, 48), 27),
        (96, 32, 8, 0.1, (12, 12), 1),
    ])
def test_shape_blocks_and_exact_count(input_size, mask_patch, model_patch, ratio, grid, masked):
    gen = SimMIMMaskGenerator(input_size, mask_patch, model_patch, ratio)
    np.random.seed(1)
    for _ in range(5):
        mask = draw(gen)
        assert mask.shape == grid
        assert set(np.unique(mask)) <= {0, 1}
        scale = mask_patch // model_patch
        blocks = mask[::scale, ::scale]
        # every block is constant: the mask is the block mask repeated `scale` times
        np.testing.assert_array_equal(mask, blocks.repeat(scale, axis=0).repeat(scale, axis=1))
        assert blocks.sum() == masked == math.ceil(blocks.size * ratio)


def test_blocks_are_uniformly_random():
    gen = SimMIMMaskGenerator(192, 32, 4, 0.6)
    np.random.seed(0)
    freq = np.mean([draw(gen)[::8, ::8] for _ in range(2000)], axis=0)
    # each of the 36 blocks is masked with probability 22/36
    np.testing.assert_allclose(freq, 22 / 36, atol=0.05)
    assert not np.array_equal(draw(gen), draw(gen))


@pytest.mark.parametrize('kwargs,words', [
    (dict(input_size=200), ['input_size=200', 'mask_patch_size=32']),
    (dict(mask_patch_size=30), ['mask_patch_size=30']),
    (dict(model_patch_size=5), ['model_patch_size=5']),
    (dict(mask_ratio=0.0), ['mask_ratio', '0.0']),
    (dict(mask_ratio=1.0), ['mask_ratio', '1.0']),
    (dict(input_size=(192, 200)), ['input_size=(192, 200)']),
    (dict(input_size=-32), ['input_size', '-32']),
])
def test_invalid_arguments_name_the_argument(kwargs, words):
    with pytest.raises(ValueError) as err:
        SimMIMMaskGenerator(**kwargs)
    for word in words:
        assert word in str(err.value)


def test_image_size_must_match_input_size():
    gen = SimMIMMaskGenerator(192)
    with pytest.raises(ValueError, match='input_size'):
        draw(gen, shape=(224, 224))
