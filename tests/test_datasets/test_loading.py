"""LoadImageFromFileOrSkip(color_type='unchanged'): the values, dtype and channels that another
library wrote, from a file and from its bytes (a shard's sample)."""
import sys

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image

from simmim_mm.datasets.transforms import LoadImageFromFileOrSkip, TorchRandomResizedCrop

RNG = np.random.default_rng(0)


def random_image(shape, dtype):
    if np.issubdtype(dtype, np.floating):
        return RNG.normal(100.0, 30.0, shape).astype(dtype)
    return RNG.integers(0, np.iinfo(dtype).max, shape, dtype=dtype, endpoint=True)


def write_pil(path, img):
    Image.fromarray(img).save(path)


def write_cv2(path, img):
    assert cv2.imwrite(str(path), img)


def write_tiff(path, img, **kwargs):
    kwargs.setdefault('photometric', 'minisblack')
    tifffile.imwrite(path, img, planarconfig='contig' if img.ndim == 3 else None, **kwargs)


# name: (file name, written array, writer, the array the loader must give)
CASES = {
    '8-bit grey PNG (PIL)': ('g8.png', random_image((23, 31), np.uint8), write_pil),
    '16-bit grey PNG (cv2)': ('g16.png', random_image((23, 31), np.uint16), write_cv2),
    '16-bit grey PNG (PIL)': ('g16pil.png', random_image((23, 31), np.uint16), write_pil),
    '16-bit BGR PNG (cv2)': ('bgr16.png', random_image((23, 31, 3), np.uint16), write_cv2),
    '16-bit grey TIFF': ('g16.tif', random_image((23, 31), np.uint16), write_tiff),
    '5-band 16-bit TIFF': ('b5.tif', random_image((23, 31, 5), np.uint16), write_tiff),
    '8-band 8-bit TIFF': ('b8.tiff', random_image((23, 31, 8), np.uint8), write_tiff),
    '4-band float32 TIFF': ('f4.tif', random_image((23, 31, 4), np.float32), write_tiff),
    '2-band 16-bit TIFF': ('b2.tif', random_image((23, 31, 2), np.uint16), write_tiff),
}


def loader(**kwargs):
    return LoadImageFromFileOrSkip(color_type='unchanged', **kwargs)


@pytest.mark.parametrize('name', list(CASES))
def test_unchanged_loads_what_was_written(tmp_path, name):
    filename, img, write = CASES[name]
    path = tmp_path / filename
    write(path, img)
    for results in (loader().transform(dict(img_path=str(path))),
                    loader().transform(dict(img_path='shard/key', img_bytes=path.read_bytes()))):
        assert results['img'].dtype == img.dtype
        np.testing.assert_array_equal(results['img'], img)
        assert results['img_shape'] == img.shape[:2] == results['ori_shape']


def test_an_rgb_tiff_comes_bgr_as_every_colour_image(tmp_path):
    """Photometric RGB: the order cv2 gives a PNG, so a preprocessor's to_rgb sees RGB."""
    rgb = random_image((23, 31, 3), np.uint16)
    write_tiff(tmp_path / 'rgb.tif', rgb, photometric='rgb')
    loaded = loader().transform(dict(img_path=str(tmp_path / 'rgb.tif')))['img']
    np.testing.assert_array_equal(loaded, rgb[..., ::-1])
    write_cv2(tmp_path / 'bgr.png', rgb[..., ::-1])  # cv2 writes its BGR array as RGB pixels
    np.testing.assert_array_equal(
        loader().transform(dict(img_path=str(tmp_path / 'bgr.png')))['img'], loaded)


def test_band_interleaved_and_page_per_band_tiffs_come_bands_last(tmp_path):
    """GDAL's usual band-interleaved layout (planar configuration 'separate') and one page per
    band both give (H, W, bands)."""
    bands = random_image((5, 23, 31), np.uint16)
    tifffile.imwrite(
        tmp_path / 'planar.tif', bands, photometric='minisblack', planarconfig='separate')
    tifffile.imwrite(tmp_path / 'pages.tif', bands, photometric='minisblack')
    for name in ('planar.tif', 'pages.tif'):
        loaded = loader().transform(dict(img_path=str(tmp_path / name)))['img']
        np.testing.assert_array_equal(loaded, bands.transpose(1, 2, 0))


def test_a_big_endian_tiff_gives_native_values(tmp_path):
    img = random_image((23, 31, 5), np.uint16)
    write_tiff(tmp_path / 'be.tif', img, byteorder='>')
    loaded = loader().transform(dict(img_path=str(tmp_path / 'be.tif')))['img']
    assert loaded.dtype.isnative
    np.testing.assert_array_equal(loaded, img)


def test_color_and_grayscale_still_give_8_bit(tmp_path):
    img = random_image((23, 31), np.uint16)
    write_cv2(tmp_path / 'g16.png', img)
    expected = (img // 257).astype(np.uint8)  # cv2 scales 16 bits to 8 by 1/257, rounded
    gray = LoadImageFromFileOrSkip(color_type='grayscale').transform(
        dict(img_path=str(tmp_path / 'g16.png')))['img']
    assert gray.dtype == np.uint8 and gray.shape == img.shape
    assert np.abs(gray.astype(int) - expected).max() <= 1
    color = LoadImageFromFileOrSkip().transform(dict(img_path=str(tmp_path / 'g16.png')))['img']
    assert color.shape == img.shape + (3, )


def test_without_tifffile_a_tiff_is_an_error_naming_it(tmp_path, monkeypatch):
    """Not a skipped file: every TIFF would be skipped until the bad-file limit stops the run."""
    write_tiff(tmp_path / 'b5.tif', random_image((23, 31, 5), np.uint16))
    write_pil(tmp_path / 'g8.png', random_image((23, 31), np.uint8))
    monkeypatch.setitem(sys.modules, 'tifffile', None)  # import tifffile raises ImportError
    load = loader()
    assert load.transform(dict(img_path=str(tmp_path / 'g8.png')))['img'].shape == (23, 31)
    with pytest.raises(ImportError, match=r'b5\.tif.*pip install tifffile'):
        load.transform(dict(img_path=str(tmp_path / 'b5.tif')))
    assert load.bad == []


def test_a_compression_tifffile_cannot_decode_names_imagecodecs(tmp_path, monkeypatch):
    write_tiff(tmp_path / 'lzw.tif', random_image((23, 31, 5), np.uint16))

    def refuse(*args, **kwargs):  # what tifffile raises for LZW without imagecodecs
        raise KeyError("<COMPRESSION.LZW: 5> requires the 'imagecodecs' package")

    monkeypatch.setattr(tifffile.TiffPageSeries, 'asarray', refuse)
    with pytest.raises(ImportError, match=r'lzw\.tif.*pip install imagecodecs'):
        loader().transform(dict(img_path=str(tmp_path / 'lzw.tif')))


def test_a_broken_tiff_is_skipped_and_reported(tmp_path):
    (tmp_path / 'broken.tif').write_bytes(b'II*\x00' + bytes(20))
    load = loader()
    assert load.transform(dict(img_path=str(tmp_path / 'broken.tif'))) is None
    assert [path for path, _ in load.bad] == [str(tmp_path / 'broken.tif')]
    with pytest.raises(ValueError, match=r'cannot read image .*broken\.tif'):
        loader(on_error='raise').transform(dict(img_path=str(tmp_path / 'broken.tif')))


@pytest.mark.parametrize('shape,dtype', [((40, 50), np.uint16), ((40, 50, 5), np.uint16),
                                         ((40, 50, 8), np.float32), ((40, 50, 5), np.int16)])
def test_torch_crop_resizes_any_dtype_and_band_count_as_pillow(shape, dtype):
    """Against Pillow's bilinear resize of each band as a float ('F') image: within the
    rounding back to integers."""
    img = random_image(shape, dtype) if dtype != np.int16 else RNG.integers(-3000, 3000,
                                                                            shape).astype(np.int16)
    crop = TorchRandomResizedCrop(
        scale=(32, 24), crop_ratio_range=(1.0, 1.0), aspect_ratio_range=(1.25, 1.25))
    out = crop.transform(dict(img=img))['img']
    assert out.dtype == img.dtype and out.shape == (32, 24) + shape[2:]
    planes = img.reshape(shape[:2] + (-1, ))
    expected = np.stack([
        np.asarray(
            Image.fromarray(planes[..., c].astype(np.float32), 'F').resize(
                (24, 32), Image.BILINEAR)) for c in range(planes.shape[-1])
    ], -1).reshape(out.shape)
    tolerance = 1e-3 * np.abs(expected).max() if dtype == np.float32 else 1
    assert np.abs(out.astype(np.float64) - expected).max() <= tolerance
