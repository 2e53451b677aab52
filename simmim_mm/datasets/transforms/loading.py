from typing import List, Optional, Tuple

import mmcv
import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmengine import fileio
from mmengine.logging import print_log

from simmim_mm.registry import TRANSFORMS

from .tiff import MissingDecoderError, decode_tiff, is_tiff


class TooManyBadImagesError(RuntimeError):
    pass


@TRANSFORMS.register_module()
class LoadImageFromFileOrSkip(LoadImageFromFile):
    """mmcv's LoadImageFromFile that does not end a days-long run over one bad file.

    ``color_type`` 'color' (the default) and 'grayscale' convert every image to 3-channel BGR
    or 1-channel (H, W) uint8, as mmcv does (16-bit is scaled down). ``'unchanged'`` keeps the
    file's values, dtype (uint8, uint16, float32, ...) and channel count: (H, W) for one
    channel, else (H, W, C), for 8/16-bit PNG and TIFF, float TIFF and N-band (multispectral)
    TIFF. Channel order: a 3- or 4-channel colour image comes BGR(A), as with 'color' (so a
    data preprocessor with ``to_rgb=True`` still sees RGB); every other image comes in its
    file's band order. TIFF files (recognised by their first bytes) are decoded with tifffile,
    as cv2 reads at most 4 TIFF channels; without tifffile such a file is an error naming it
    and ``pip install tifffile``, not a skipped file. A file that cannot be read or
    decoded (zero bytes, truncated, not an image) makes the transform return None, so that
    MMEngine's dataset draws another sample; each such file is logged once. With
    ``on_error='raise'`` the first bad file is an error naming it. If more than
    ``max_bad_fraction`` of the files this worker has read are bad (after at least
    ``min_reads`` reads), the data is not what the config expects: stop with examples.

    A dataset that reads the files itself (a shard reader) passes their bytes as
    ``img_bytes``: they are decoded as a file's would be and no file is opened; ``img_path``
    then only names the sample in messages.
    """

    def __init__(self,
                 on_error: str = 'skip',
                 max_bad_fraction: float = 0.01,
                 min_reads: int = 100,
                 **kwargs):
        if on_error not in ('skip', 'raise'):
            raise ValueError(f"on_error must be 'skip' or 'raise', got {on_error!r}")
        if not 0 <= max_bad_fraction <= 1:
            raise ValueError(f'max_bad_fraction must lie in [0, 1], got {max_bad_fraction}')
        kwargs.setdefault('ignore_empty', False)
        super().__init__(**kwargs)
        self.on_error = on_error
        self.max_bad_fraction = max_bad_fraction
        self.min_reads = min_reads
        self.reads = 0
        self.bad: List[Tuple[str, str]] = []
        self._reported = set()

    def transform(self, results: dict) -> Optional[dict]:
        self.reads += 1
        path = results['img_path']
        encoded = results.pop('img_bytes', None)  # not carried through the pipeline
        try:
            if encoded is None and self.color_type == 'unchanged':
                encoded = fileio.get(path, backend_args=self.backend_args)
            loaded = (
                super().transform(results) if encoded is None else self._decode(encoded, results))
            if loaded is None:
                raise ValueError('empty file')
            return loaded
        except MissingDecoderError:  # every such file would fail: not the file's fault
            raise
        except Exception as error:  # any decoder failure: cv2, PIL, turbojpeg, I/O
            reason = f'{type(error).__name__}: {error}'
            if self.on_error == 'raise':
                raise ValueError(f'cannot read image {path} ({reason})') from error
            self._skip(path, reason)
            return None

    def _decode(self, encoded: bytes, results: dict) -> dict:
        """Bytes a dataset read itself, decoded as mmcv decodes a file's."""
        if not encoded:
            raise ValueError('no image bytes')
        if self.color_type == 'unchanged' and is_tiff(encoded):
            img = decode_tiff(encoded, results['img_path'])
        else:
            img = mmcv.imfrombytes(encoded, flag=self.color_type, backend=self.imdecode_backend)
        if img is None:  # cv2's answer to bytes that are not an image
            raise ValueError('not a decodable image')
        if self.to_float32:
            img = img.astype(np.float32)
        results.update(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2])
        return results

    def _skip(self, path: str, reason: str) -> None:
        if path not in self._reported:
            self._reported.add(path)
            self.bad.append((path, reason))
            print_log(
                f'Skipping unreadable image {path} ({reason}); another sample is drawn',
                logger='current',
                level=30)
        if self.reads >= self.min_reads and len(self.bad) > self.max_bad_fraction * self.reads:
            examples = '\n  '.join(f'{p}: {r}' for p, r in self.bad[:5])
            raise TooManyBadImagesError(
                f'{len(self.bad)} of {self.reads} images read could not be decoded (more than '
                f'max_bad_fraction={self.max_bad_fraction}). Examples:\n  {examples}')
