"""TIFF decoding with tifffile: the real values and every band of 16-bit, float and
multispectral files, where cv2's TIFF decoder refuses more than 4 channels and misreads
2-4 grey (minisblack) samples per pixel as one channel."""
import io

import numpy as np

# little- and big-endian, classic and BigTIFF
TIFF_SIGNATURES = (b'II*\x00', b'MM\x00*', b'II+\x00', b'MM\x00+')


class MissingDecoderError(ImportError):
    """A file needs a package that is not installed: an environment error, not a bad file, so
    the loader stops instead of skipping every such file."""


def is_tiff(encoded: bytes) -> bool:
    return encoded[:4] in TIFF_SIGNATURES


def decode_tiff(encoded: bytes, name: str) -> np.ndarray:
    """The first image of a TIFF file as (H, W) for one band, else (H, W, C): the file's dtype
    and values, bands in the file's order, except that an RGB(A) file (photometric RGB) comes
    as BGR(A), as cv2 decodes every other colour image. ``name`` is for messages."""
    try:
        import tifffile
    except ImportError as error:
        raise MissingDecoderError(
            f'{name} is a TIFF file: reading it needs tifffile (pip install tifffile)') from error
    with tifffile.TiffFile(io.BytesIO(encoded)) as tif:
        series = tif.series[0]
        try:
            img = series.asarray()
        except (KeyError, ValueError) as error:
            if 'imagecodecs' in str(error):  # LZW, JPEG, ... compressed files
                raise MissingDecoderError(f'{name}: decoding it needs imagecodecs (pip install '
                                          f'imagecodecs): {error}') from error
            raise
        axes = series.axes
        photometric_rgb = tif.pages[0].photometric == tifffile.PHOTOMETRIC.RGB
    # drop length-1 axes (a one-page stack), keep Y and X, and bands last
    keep = [k for k, axis in enumerate(axes) if axis in 'YX' or img.shape[k] > 1]
    img = img.reshape([img.shape[k] for k in keep])
    axes = ''.join(axes[k] for k in keep)
    bands = [axis for axis in axes if axis not in 'YX']
    if len(bands) > 1 or axes.replace(''.join(bands), '') != 'YX':
        raise ValueError(f'unsupported TIFF layout: axes {series.axes}, shape {series.shape} '
                         '(one image of (H, W) or (H, W, bands) is read)')
    if bands:
        img = np.moveaxis(img, axes.index(bands[0]), -1)
        if photometric_rgb and img.shape[-1] in (3, 4):
            img = img[..., [2, 1, 0, 3][:img.shape[-1]]]
    if not img.dtype.isnative:  # a big-endian file
        img = img.astype(img.dtype.newbyteorder('='))
    return np.ascontiguousarray(img)
