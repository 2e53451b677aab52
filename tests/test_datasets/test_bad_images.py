"""A run survives unreadable files and converts odd ones (issue: reliability)."""
import io
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from simmim_mm.datasets.transforms import TooManyBadImagesError
from simmim_mm.registry import DATASETS


def odd_and_bad_images(folder):
    folder.mkdir()
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (80, 100, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(folder / 'good.png')
    Image.fromarray(rgb[..., 0]).save(folder / 'gray.png')
    Image.fromarray(np.dstack([rgb, rgb[..., :1]])).save(folder / 'rgba.png')
    Image.fromarray(rgb).convert('CMYK').save(folder / 'cmyk.jpg')
    Image.fromarray((rgb[..., 0].astype(np.uint16) * 257)).save(folder / 'deep16.png')
    Image.fromarray(rgb[:3, :3]).save(folder / 'tiny.png')
    jpeg = io.BytesIO()
    Image.fromarray(rgb).save(jpeg, format='JPEG')
    (folder / 'truncated.jpg').write_bytes(jpeg.getvalue()[:50])
    (folder / 'empty.jpg').write_bytes(b'')
    (folder / 'garbage.png').write_bytes(rng.bytes(500))
    return {'truncated.jpg', 'empty.jpg', 'garbage.png'}


def build(folder, **loading):
    return DATASETS.build(
        dict(
            type='CustomDataset',
            data_root=str(folder),
            with_label=False,
            pipeline=[
                dict(type='LoadImageFromFileOrSkip', **loading),
                dict(type='RandomResizedCrop', scale=64),
                dict(type='SimMIMMaskGenerator', input_size=64, model_patch_size=4),
                dict(type='PackInputs')
            ]))


def test_bad_files_are_skipped_and_odd_ones_converted(tmp_path):
    bad = odd_and_bad_images(tmp_path / 'data')
    dataset = build(tmp_path / 'data', min_reads=1000)
    names = [osp.basename(dataset.get_data_info(i)['img_path']) for i in range(len(dataset))]
    assert len(names) == 9
    np.random.seed(0)
    for i in range(len(dataset)):
        sample = dataset[i]  # a bad file's index yields another, good sample
        assert tuple(sample['inputs'].shape) == (3, 64, 64)
        assert osp.basename(sample['data_samples'].img_path) not in bad
    loader = dataset.pipeline.transforms[0]
    assert {osp.basename(p) for p, _ in loader.bad} == bad


def test_strict_mode_names_the_file(tmp_path):
    odd_and_bad_images(tmp_path / 'data')
    dataset = build(tmp_path / 'data', on_error='raise')
    index = [osp.basename(dataset.get_data_info(i)['img_path'])
             for i in range(len(dataset))].index('empty.jpg')
    with pytest.raises(ValueError, match='empty.jpg'):
        dataset.prepare_data(index)


def test_mostly_bad_data_stops_with_examples(tmp_path):
    folder = tmp_path / 'data'
    folder.mkdir()
    for i in range(10):
        (folder / f'broken{i}.jpg').write_bytes(b'not an image')
    dataset = build(folder, max_bad_fraction=0.5, min_reads=4)
    with pytest.raises(TooManyBadImagesError, match=r'broken\d\.jpg'):
        dataset[0]
