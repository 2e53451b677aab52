"""tools/dataset_converters/prepare_elpv.py on a small fake ELPV tree (300 x 300 grayscale
PNGs and a labels.csv in the elpv-dataset package's format): the published protocol's
stratification by class and cell type, the layout, and its errors."""
import csv
import os
import os.path as osp
import runpy
import subprocess
import sys
from collections import Counter
from unittest import mock

import numpy as np
import pytest
from mmpretrain.datasets import CustomDataset
from PIL import Image

from simmim_mm.datasets import elpv
from simmim_mm.datasets.split import SplitError

from conftest import REPO_ROOT

# (probability as labels.csv writes it, class, cell type): cells
CELLS = {
    ('1.0', 'p100', 'mono'): 6,
    ('0.0', 'p0', 'mono'): 10,
    ('0.0', 'p0', 'poly'): 7,
    ('0.3333333333333333', 'p33', 'poly'): 5,
    ('0.6666666666666666', 'p67', 'mono'): 4,
    ('0.6666666666666666', 'p67', 'poly'): 2
}
# 34 cells, ceil(34 / 4) = 9 to test; floors 1, 2, 1, 1, 1, 0 (6); remainders .5, .5, .75,
# .25, 0, .5: the 3 left go to (p0, poly) .75, then of the .5 tie the larger (p0, mono) 10 and
# (p100, mono) 6.
TEST_BY_HAND = {
    ('p100', 'mono'): 2,
    ('p0', 'mono'): 3,
    ('p0', 'poly'): 2,
    ('p33', 'poly'): 1,
    ('p67', 'mono'): 1
}


def fake_elpv(root, cells=CELLS):
    """ELPV's data folder: images/cellNNNN.png and labels.csv (path, probability and type in
    padded columns, as the package's file); {name: (class, type)}."""
    os.makedirs(osp.join(root, 'images'))
    rng, truth, lines = np.random.default_rng(0), {}, []
    number = 0
    for (probability, label, cell_type), n in cells.items():
        for _ in range(n):
            number += 1
            name = f'cell{number:04d}.png'
            pixels = rng.integers(0, 256, (300, 300), dtype=np.uint8)
            Image.fromarray(pixels, mode='L').save(osp.join(root, 'images', name))
            lines.append(f'images/{name}  {probability:<20s}{cell_type}\n')
            truth[name] = (label, cell_type)
    with open(osp.join(root, 'labels.csv'), 'w') as file:
        file.writelines(lines)
    return truth


TOOL = osp.join(REPO_ROOT, 'tools', 'dataset_converters', 'prepare_elpv.py')


def prepare(*args):
    """The tool run as a user runs it (a new python)."""
    return subprocess.run([sys.executable, TOOL, *args],
                          capture_output=True,
                          text=True,
                          env=dict(os.environ, PYTHONPATH=REPO_ROOT),
                          timeout=300)


def prepare_here(*args) -> str:
    """The tool's main() in this process (faster): its error message, '' if it succeeds."""
    with mock.patch.object(sys, 'argv', [TOOL, *args]):
        try:
            runpy.run_path(TOOL)['main']()
        except SystemExit as error:
            return str(error.code)
    return ''


def test_prepare_elpv_on_a_fake_tree(tmp_path):
    truth = fake_elpv(str(tmp_path / 'elpv_data'))
    out = str(tmp_path / 'data' / 'elpv')
    result = prepare('--out', out, '--elpv-root', str(tmp_path / 'elpv_data'))
    assert result.returncode == 0, result.stderr
    assert '25 train / 9 test images' in result.stdout
    with open(osp.join(out, 'meta', 'classes.txt')) as file:
        assert file.read().split() == ['p0', 'p33', 'p67', 'p100']
    with open(osp.join(out, 'meta', 'split.csv'), newline='') as file:
        record = list(csv.DictReader(file))
    assert {r['path']: (r['label'], r['group']) for r in record} == truth
    test = Counter((r['label'], r['group']) for r in record if r['split'] == 'test')
    assert test == TEST_BY_HAND
    dataset = CustomDataset(
        data_root=out,
        ann_file='meta/train.txt',
        data_prefix='images',
        classes=osp.join(out, 'meta', 'classes.txt'),
        pipeline=[])
    assert len(dataset) == 25
    for k in range(len(dataset)):
        info = dataset.get_data_info(k)
        label, _ = truth[osp.basename(info['img_path'])]
        assert info['gt_label'] == ['p0', 'p33', 'p67', 'p100'].index(label)
        with Image.open(info['img_path']) as image:
            assert image.mode == 'L' and image.size == (300, 300)

    # the same command again is fine; another seed replaces it only with --force
    assert prepare_here('--out', out, '--elpv-root', str(tmp_path / 'elpv_data')) == ''
    other = prepare_here('--out', out, '--elpv-root', str(tmp_path / 'elpv_data'), '--seed', '1')
    assert 'holds another split' in other and '--force' in other


def test_a_bad_labels_line_is_named(tmp_path):
    root = str(tmp_path / 'elpv_data')
    fake_elpv(root, {('0.0', 'p0', 'mono'): 4, ('0.5', 'half', 'mono'): 1})
    error = prepare_here('--out', str(tmp_path / 'out'), '--elpv-root', root)
    assert f'{root}/labels.csv:5: the probability 0.5 is not 0, 1/3, 2/3 or 1' in error
    assert not (tmp_path / 'out').exists()
    with open(osp.join(root, 'labels.csv'), 'w') as file:
        file.write('images/cell0001.png  0.0  mono\nimages/cell0002.png  0.0  cast\n')
    with pytest.raises(SplitError, match=r"labels.csv:2: the cell type 'cast'"):
        elpv.read_elpv_labels(root)


def test_without_the_package_the_error_says_how_to_install(monkeypatch):
    monkeypatch.setattr(elpv.importlib.util, 'find_spec', lambda name: None)
    with pytest.raises(SplitError) as error:
        elpv.elpv_root()
    assert 'pip install elpv-dataset' in str(error.value)
    assert 'CC BY-NC-SA 4.0' in str(error.value) and '--elpv-root' in str(error.value)


def test_the_installed_package_is_found_through_importlib(tmp_path, monkeypatch):
    """A stand-in elpv_dataset package first on sys.path: its data folder, without
    importing it (its __init__ would fail)."""
    package = tmp_path / 'site' / 'elpv_dataset'
    package.mkdir(parents=True)
    (package / '__init__.py').write_text('raise ImportError("not to be imported")\n')
    monkeypatch.syspath_prepend(str(tmp_path / 'site'))
    monkeypatch.delitem(sys.modules, 'elpv_dataset', raising=False)
    assert elpv.elpv_root() == str(package / 'data')
