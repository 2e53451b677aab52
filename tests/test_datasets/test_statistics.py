"""The per-channel statistics (simmim_mm/datasets/statistics.py) and
tools/analysis/dataset_stats.py against numpy's mean / std of the same arrays."""
import os.path as osp
import re
import runpy

import cv2
import numpy as np
import pytest
import tifffile
from mmengine.config import Config

from simmim_mm.datasets.statistics import ChannelStatistics

from conftest import REPO_ROOT

RNG = np.random.default_rng(0)
TOOL = runpy.run_path(osp.join(REPO_ROOT, 'tools', 'analysis', 'dataset_stats.py'))


def numpy_stats(images):
    pixels = np.concatenate([
        img.reshape(-1, img.shape[-1] if img.ndim == 3 else 1) for img in images
    ]).astype(np.float64)
    return pixels.mean(axis=0), pixels.std(axis=0)


def test_streaming_statistics_equal_numpy_over_all_pixels():
    # a small spread around a large mean: what a sum of squares would lose
    images = [(RNG.normal(1e6, 0.5, (h, w, 4))).astype(np.float32)
              for h, w in [(7, 9), (3, 40), (16, 16)]]
    stats = ChannelStatistics()
    for img in images:
        stats.add(img)
    mean, std = numpy_stats(images)
    np.testing.assert_allclose(stats.mean, mean, rtol=1e-12)
    np.testing.assert_allclose(stats.std, std, rtol=1e-9)
    assert stats.channels == 4 and stats.images == 3 and stats.dtypes == ['float32']


def test_a_different_channel_count_names_the_image():
    stats = ChannelStatistics()
    stats.add(np.zeros((4, 4, 5), np.uint16), 'a.tif')
    with pytest.raises(ValueError, match=r'b\.tif has 3 channels, the images before it 5'):
        stats.add(np.zeros((4, 4, 3), np.uint16), 'b.tif')


def run_tool(capsys, *argv):
    TOOL['main'](list(argv))
    return capsys.readouterr()


def printed(out, name):
    """The list after `name=` in the tool's --cfg-options line."""
    return [float(v) for v in re.search(rf'{name}=\[([^]]*)\]', out)[1].split(',')]


def test_tool_on_a_folder_of_5_band_tiffs(tmp_path, capsys):
    images = [
        RNG.integers(0, 4000, (20, 30, 5), dtype=np.uint16) +
        np.uint16(1000) * np.arange(5, dtype=np.uint16) for _ in range(3)
    ]
    for k, img in enumerate(images):  # in class folders, as a folder may have
        folder = tmp_path / f'class{k % 2}'
        folder.mkdir(exist_ok=True)
        tifffile.imwrite(folder / f'{k}.tif', img, photometric='minisblack', planarconfig='contig')
    (tmp_path / 'broken.tif').write_bytes(b'II*\x00' + bytes(30))
    result = run_tool(capsys, str(tmp_path), '--color-type', 'unchanged')
    mean, std = numpy_stats(images)
    np.testing.assert_allclose(printed(result.out, 'data_preprocessor.mean'), mean, rtol=1e-5)
    np.testing.assert_allclose(printed(result.out, 'data_preprocessor.std'), std, rtol=1e-5)
    assert '3 images read (uint16), 1 skipped' in result.out
    assert 'data_preprocessor.to_rgb=False model.backbone.in_channels=5' in result.out
    assert re.search(r'skipped .*broken\.tif', result.err)
    # what it prints for a config is a config
    config = '\n'.join(line for line in result.out.splitlines()
                       if line.startswith(('data_preprocessor =', 'model =')))
    cfg = Config.fromstring(config, '.py')
    assert cfg.model.backbone.in_channels == 5 and cfg.data_preprocessor.to_rgb is False
    np.testing.assert_allclose(cfg.data_preprocessor.mean, mean, rtol=1e-5)


def test_tool_on_an_annotation_file_of_16_bit_greys(tmp_path, capsys):
    (tmp_path / 'images').mkdir()
    images = [RNG.integers(0, 65535, (25, 20), dtype=np.uint16) for _ in range(4)]
    for k, img in enumerate(images):
        assert cv2.imwrite(str(tmp_path / 'images' / f'cell{k}.png'), img)
    # the prepared-split layout: "<path> <class index>", only the listed images count
    (tmp_path / 'train.txt').write_text('cell0.png 0\ncell2.png 3\ncell3.png 1\n')
    result = run_tool(capsys, str(tmp_path / 'train.txt'), '--data-prefix',
                      str(tmp_path / 'images'), '--color-type', 'unchanged')
    mean, std = numpy_stats([images[0], images[2], images[3]])
    np.testing.assert_allclose(printed(result.out, 'data_preprocessor.mean'), mean, rtol=1e-5)
    np.testing.assert_allclose(printed(result.out, 'data_preprocessor.std'), std, rtol=1e-5)
    assert 'model.backbone.in_channels=1 ' in result.out and '3 images read' in result.out


def test_tool_reports_colour_images_in_rgb_order(tmp_path, capsys):
    bgr = [RNG.integers(0, 255, (16, 16, 3), dtype=np.uint8) for _ in range(2)]
    for k, img in enumerate(bgr):
        assert cv2.imwrite(str(tmp_path / f'{k}.png'), img)
    result = run_tool(capsys, str(tmp_path), '--max-images', '1')
    assert '1 images read' in result.out and 'to_rgb=True' in result.out
    means = [numpy_stats([img])[0][::-1] for img in bgr]  # RGB
    got = printed(result.out, 'data_preprocessor.mean')
    assert any(np.allclose(got, m, rtol=1e-5) for m in means), (got, means)


def test_tool_arguments():
    parsed = TOOL['parse_args'](['data/x', '--color-type', 'unchanged', '--max-images', '5'])
    assert (parsed.source, parsed.color_type, parsed.max_images) == ('data/x', 'unchanged', 5)
    with pytest.raises(FileNotFoundError, match='no folder or annotation file'):
        TOOL['main'](['/nonexistent/folder'])
