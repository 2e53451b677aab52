"""The pretraining pipeline against the official one (issue: a faithful input pipeline at
twice the speed): the decode is Pillow's pixel for pixel, the crop boxes are mmpretrain's
RandomResizedCrop's for the same seed, and every resized pixel is within +-1 of Pillow's
crop + bilinear resize. The references are computed here with Pillow itself."""
import io
import os.path as osp

import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmpretrain.datasets.transforms import RandomResizedCrop
from PIL import Image, ImageOps

from simmim_mm.datasets.transforms import LoadImageFromFileOrSkip
from simmim_mm.registry import DATASETS, TRANSFORMS

from conftest import REPO_ROOT

BASE_CONFIG = osp.join(REPO_ROOT, 'configs', '_base_', 'datasets', 'imagenet_simmim_192.py')
# (h, w): ImageNet-like both ways, smaller than the output (upscaling), panoramas, tiny
SIZES = [(375, 500), (500, 375), (150, 120), (64, 48), (90, 800), (800, 90), (7, 5), (2, 3), (1, 1)]


@pytest.fixture(autouse=True)
def one_thread():
    """As in a DataLoader worker; torch's uint8 kernel gives the same pixels either way."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def photo(h, w, seed=0):
    """Smooth colour gradients (what resizing mostly meets) with noise (sharp edges)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([127 + 120 * np.sin(x / 17 + c) * np.cos(y / 23 - c) for c in range(3)], -1)
    return np.clip(base + rng.normal(0, 25, (h, w, 3)), 0, 255).astype(np.uint8)


def encode(image: Image.Image, **save) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, **save)
    return buffer.getvalue()


def pillow_decode(data: bytes) -> np.ndarray:
    """The official SimMIM loader: torchvision's pil_loader."""
    return np.asarray(Image.open(io.BytesIO(data)).convert('RGB'))


def pillow_resized_crop(rgb: np.ndarray, box, size=(192, 192)) -> np.ndarray:
    """torchvision's resized_crop on a PIL image: Pillow crop, then Pillow bilinear."""
    top, left, height, width = box
    return np.asarray(
        Image.fromarray(rgb).crop(
            (left, top, left + width, top + height)).resize(size[::-1], Image.BILINEAR))


def max_difference(a: np.ndarray, b: np.ndarray) -> int:
    assert a.shape == b.shape and a.dtype == b.dtype == np.uint8
    return int(np.abs(a.astype(int) - b.astype(int)).max())


def plain_images():
    """Every 8-bit JPEG and PNG flavour the loader must decode as Pillow does."""
    images = {}
    for h, w in [(375, 500), (500, 375), (61, 47), (1, 1)]:
        rgb = Image.fromarray(photo(h, w))
        for subsampling, name in ((0, '4:4:4'), (1, '4:2:2'), (2, '4:2:0')):
            images[f'{h}x{w} jpeg {name}'] = encode(
                rgb, format='JPEG', quality=90, subsampling=subsampling)
        images[f'{h}x{w} jpeg progressive'] = encode(rgb, format='JPEG', progressive=True)
        images[f'{h}x{w} jpeg q100'] = encode(rgb, format='JPEG', quality=100)
        images[f'{h}x{w} grayscale jpeg'] = encode(rgb.convert('L'), format='JPEG')
        for mode in ('RGB', 'L', 'P', 'RGBA', 'LA'):
            images[f'{h}x{w} {mode} png'] = encode(rgb.convert(mode), format='PNG')
    return images


def test_decode_is_pillows_pixel_for_pixel(tmp_path):
    loader = LoadImageFromFileOrSkip(on_error='raise')
    for name, data in plain_images().items():
        path = tmp_path / name.replace(' ', '_').replace(':', '')
        path.write_bytes(data)
        expected_bgr = pillow_decode(data)[..., ::-1]  # mmcv's channel order
        from_file = loader(dict(img_path=str(path)))['img']
        from_bytes = loader(dict(img_path=name, img_bytes=data))['img']
        np.testing.assert_array_equal(from_file, expected_bgr, err_msg=name)
        np.testing.assert_array_equal(from_bytes, expected_bgr, err_msg=name)


def test_exif_rotated_photos_come_out_upright():
    """The one difference from torchvision's loader, as mmcv always decoded."""
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    data = encode(Image.fromarray(photo(40, 60)), format='JPEG', exif=exif)
    upright = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert('RGB'))
    loader = LoadImageFromFileOrSkip(on_error='raise')
    np.testing.assert_array_equal(
        loader(dict(img_path='rotated.jpg', img_bytes=data))['img'], upright[..., ::-1])


def test_bytes_are_decoded_without_opening_a_file(tmp_path):
    data = encode(Image.fromarray(photo(60, 80)), format='JPEG')
    loader = LoadImageFromFileOrSkip(on_error='raise')
    results = loader(
        dict(img_path=str(tmp_path / 'no such file.jpg'), img_bytes=data, sample_idx=3))
    np.testing.assert_array_equal(results['img'], pillow_decode(data)[..., ::-1])
    assert results['img_shape'] == results['ori_shape'] == (60, 80)
    assert 'img_bytes' not in results and results['sample_idx'] == 3


@pytest.mark.parametrize('data, reason', [(b'', 'no image bytes'),
                                          (b'not an image at all', 'not a decodable image')])
def test_bad_bytes_are_skipped_and_named(data, reason):
    loader = LoadImageFromFileOrSkip(min_reads=1000)
    assert loader(dict(img_path='shard-000.tar/sample7.jpg', img_bytes=data)) is None
    assert loader.bad == [('shard-000.tar/sample7.jpg', f'ValueError: {reason}')]
    strict = LoadImageFromFileOrSkip(on_error='raise')
    with pytest.raises(ValueError, match='sample7.jpg'):
        strict(dict(img_path='shard-000.tar/sample7.jpg', img_bytes=data))


def test_truncated_bytes_are_skipped():
    data = encode(Image.fromarray(photo(60, 80)), format='JPEG')[:80]
    loader = LoadImageFromFileOrSkip(min_reads=1000)
    assert loader(dict(img_path='cut.jpg', img_bytes=data)) is None
    assert [path for path, _ in loader.bad] == ['cut.jpg']


def odd_images():
    rgb = photo(70, 90)
    return {
        'cmyk.jpg': encode(Image.fromarray(rgb).convert('CMYK'), format='JPEG'),
        'deep16.png': encode(Image.fromarray(rgb[..., 0].astype(np.uint16) * 257), format='PNG'),
        'gray.png': encode(Image.fromarray(rgb[..., 0]), format='PNG'),
        'rgba.png': encode(Image.fromarray(rgb).convert('RGBA'), format='PNG')
    }


@pytest.mark.parametrize('color_type', ['color', 'grayscale'])
def test_odd_images_load_as_before_and_crop(tmp_path, color_type):
    """CMYK, 16-bit, grayscale and RGBA go through mmcv's decoder as they always did, from a
    file or from bytes, and the torch resize takes what it returns."""
    loader = LoadImageFromFileOrSkip(on_error='raise', color_type=color_type)
    crop = TRANSFORMS.build(dict(type='TorchRandomResizedCrop', scale=64))
    for name, data in odd_images().items():
        (tmp_path / name).write_bytes(data)
        before = mmcv.imfrombytes(data, flag=color_type, backend='cv2')
        from_file = loader(dict(img_path=str(tmp_path / name)))['img']
        from_bytes = loader(dict(img_path=name, img_bytes=data))['img']
        np.testing.assert_array_equal(from_file, before, err_msg=name)
        np.testing.assert_array_equal(from_bytes, before, err_msg=name)
        out = crop(dict(img=from_file))['img']
        assert out.dtype == np.uint8
        assert out.shape == ((64, 64, 3) if color_type == 'color' else (64, 64)), name


def mmpretrain_crop(crop_ratio_range):
    return RandomResizedCrop(scale=192, crop_ratio_range=crop_ratio_range, backend='pillow')


@pytest.mark.parametrize('crop_ratio_range', [(0.67, 1.0), (0.08, 1.0)])
def test_crops_are_mmpretrains_and_within_one_of_pillow(crop_ratio_range):
    """Many random crops of every size: the box is the one mmpretrain's RandomResizedCrop
    draws for the seed (and the same number of draws is used), and each pixel is within +-1
    of Pillow's crop + bilinear resize of that box, down- and upscaling."""
    ours = TRANSFORMS.build(
        dict(type='TorchRandomResizedCrop', scale=192, crop_ratio_range=crop_ratio_range))
    theirs = mmpretrain_crop(crop_ratio_range)
    worst, exact = 0, 0
    for size_index, (h, w) in enumerate(SIZES):
        bgr = photo(h, w, seed=size_index)
        for seed in range(25):
            np.random.seed(seed)
            box = theirs.rand_crop_params(bgr)
            after_theirs = np.random.random()
            np.random.seed(seed)
            out = ours(dict(img=bgr))['img']
            assert np.random.random() == after_theirs
            expected = pillow_resized_crop(bgr, box)
            worst = max(worst, max_difference(out, expected))
            exact += np.array_equal(out, expected)
    assert worst <= 1
    # +-1 is rounding, not another filter: most crops come out identical
    assert exact > 0.5 * len(SIZES) * 25


def test_grayscale_and_flipped_inputs():
    ours = TRANSFORMS.build(dict(type='TorchRandomResizedCrop', scale=(96, 128)))
    gray = photo(90, 120)[..., 1]
    np.random.seed(0)
    out = ours(dict(img=gray))['img']
    np.random.seed(0)
    box = ours.rand_crop_params(gray)
    top, left, height, width = box
    expected = np.asarray(
        Image.fromarray(gray).crop((left, top, left + width, top + height)).resize((128, 96),
                                                                                   Image.BILINEAR))
    assert out.shape == (96, 128) and max_difference(out, expected) <= 1
    flipped = np.flip(photo(90, 120), axis=1)  # negative strides, as after a RandomFlip
    np.random.seed(1)
    out = ours(dict(img=flipped))['img']
    np.random.seed(1)
    expected = pillow_resized_crop(
        np.ascontiguousarray(flipped), ours.rand_crop_params(flipped), (96, 128))
    assert max_difference(out, expected) <= 1


def test_pillow_and_cv2_backends_are_mmpretrains_own():
    image = photo(375, 500)
    for backend in ('pillow', 'cv2'):
        ours = TRANSFORMS.build(dict(type='TorchRandomResizedCrop', scale=192, backend=backend))
        theirs = RandomResizedCrop(scale=192, backend=backend)
        np.random.seed(5)
        expected = theirs(dict(img=image))
        np.random.seed(5)
        got = ours(dict(img=image))
        np.testing.assert_array_equal(got['img'], expected['img'])
        assert got['img_shape'] == expected['img_shape']


def test_torch_backend_refuses_other_interpolations():
    with pytest.raises(ValueError, match="backend='pillow'"):
        TRANSFORMS.build(dict(type='TorchRandomResizedCrop', scale=192, interpolation='bicubic'))


def pretraining_datasets(folder):
    """The base config's dataset on ``folder``, as configured and with the config comment's
    override back to Pillow's resize."""
    cfg = Config.fromfile(BASE_CONFIG)
    cfg.merge_from_dict({'train_dataloader.dataset.data_root': str(folder)})
    assert cfg.train_dataloader.dataset.pipeline[1].type == 'TorchRandomResizedCrop'
    fast = DATASETS.build(cfg.train_dataloader.dataset)
    cfg.merge_from_dict({'train_dataloader.dataset.pipeline.1.backend': 'pillow'})
    return fast, DATASETS.build(cfg.train_dataloader.dataset)


def test_pretraining_pipeline_is_the_official_one_within_one(tmp_path):
    """The config's whole pipeline against the official augmentation computed with Pillow
    (decode, crop box, bilinear resize, flip) and against the same pipeline with Pillow's
    resize: for the same seed, the same crop, flip and mask, and inputs within +-1."""
    folder = tmp_path / 'train'
    folder.mkdir()
    for i, (h, w) in enumerate([(375, 500), (500, 375), (150, 120), (40, 60)]):
        Image.fromarray(photo(h, w, seed=i)).save(folder / f'{i}.jpg', quality=90)
    fast, pillow = pretraining_datasets(tmp_path)
    official_crop = mmpretrain_crop((0.67, 1.0))
    flips = set()
    for index in range(len(fast)):
        path = fast.get_data_info(index)['img_path']
        with open(path, 'rb') as file:
            rgb = pillow_decode(file.read())
        for seed in range(6):
            np.random.seed(seed)
            sample = fast[index]
            np.random.seed(seed)
            reference = pillow[index]
            np.random.seed(seed)
            box = official_crop.rand_crop_params(rgb)
            meta = sample['data_samples']
            assert meta.flip == reference['data_samples'].flip
            flips.add(meta.flip)
            np.testing.assert_array_equal(meta.mask, reference['data_samples'].mask)
            official = pillow_resized_crop(rgb, box)
            if meta.flip:
                official = official[:, ::-1]
            # (c, h, w) BGR, uint8 until the data preprocessor (to_rgb=True) normalizes
            inputs = sample['inputs']
            assert inputs.dtype == torch.uint8 and inputs.shape == (3, 192, 192)
            ours = inputs.numpy()[::-1].transpose(1, 2, 0)
            assert max_difference(ours, official) <= 1
            assert max_difference(inputs.numpy(), reference['inputs'].numpy()) <= 1
    assert flips == {True, False}
