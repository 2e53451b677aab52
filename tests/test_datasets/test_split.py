"""The stratified split (simmim_mm/datasets/split.py) and its tool: counts per class and
group against a hand computation, determinism, the layout as mmpretrain's CustomDataset reads
it, refusals that name the CSV line, and atomic writing."""
import csv
import os
import os.path as osp
import shutil
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
from mmpretrain.datasets import CustomDataset
from PIL import Image

from simmim_mm.datasets import split as split_module
from simmim_mm.datasets.split import (
    SplitError,
    prepare_split,
    read_class_folders,
    read_labels_csv,
    split_samples,
)

from conftest import REPO_ROOT

# (label, group): images. With a test fraction of 1/4 (40 images: ceil(10) = 10 to test),
# by hand: floors 2, 1, 1, 1, 1, 2 (8); remainders .5, .5, .25, .75, 0, 0; the 2 left go to
# (b, y) (.75), then of the .5 tie to the larger stratum (a, x).
SIZES = {('a', 'x'): 10, ('a', 'y'): 6, ('b', 'x'): 5, ('b', 'y'): 7, ('c', 'x'): 4, ('c', 'y'): 8}
TEST_BY_HAND = {
    ('a', 'x'): 3,
    ('a', 'y'): 1,
    ('b', 'x'): 1,
    ('b', 'y'): 2,
    ('c', 'x'): 1,
    ('c', 'y'): 2
}


def write_images(folder, names):
    """Small grey PNGs, each a different value, so a copy can be told from another."""
    for k, name in enumerate(names):
        path = osp.join(folder, name)
        os.makedirs(osp.dirname(path), exist_ok=True)
        Image.fromarray(np.full((8, 8), k % 256, np.uint8)).save(path)


def write_csv(path, rows, header=('path', 'label', 'group')):
    with open(path, 'w', newline='') as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


@pytest.fixture
def labelled(tmp_path):
    """images/ (in sub folders) and labels.csv with the strata of SIZES; {path: (label,
    group)}."""
    truth = {}
    for (label, group), n in SIZES.items():
        for k in range(n):
            truth[f'sub{k % 3}/{label}_{group}_{k}.png'] = (label, group)
    write_images(tmp_path / 'images', sorted(truth))
    rows = [(path, label, group) for path, (label, group) in sorted(truth.items())]
    return write_csv(tmp_path / 'labels.csv', rows), str(tmp_path / 'images'), truth


def read_record(out):
    with open(osp.join(out, 'meta', 'split.csv'), newline='') as file:
        return list(csv.DictReader(file))


def test_counts_per_class_and_group_are_the_hand_computation(labelled, tmp_path):
    labels, images, truth = labelled
    out = str(tmp_path / 'out')
    prepare_split(out, images, read_labels_csv(labels, images, ['group']), 0.25, seed=0)
    record = read_record(out)
    assert sorted(r['path'] for r in record) == sorted(truth)
    for row in record:
        assert (row['label'], row['group']) == truth[row['path']]
    test = Counter((r['label'], r['group']) for r in record if r['split'] == 'test')
    train = Counter((r['label'], r['group']) for r in record if r['split'] == 'train')
    assert test == TEST_BY_HAND
    assert train == {key: n - TEST_BY_HAND[key] for key, n in SIZES.items()}


def test_the_rule_in_exact_arithmetic():
    """0.29 * 100 is 28.999... in floats: the rule takes 29 (29 / 100 exactly); 0.25 of ELPV's
    strata (labels.csv's counts) gives 656 of 2624, ties .5 to the larger strata."""
    count = split_module.stratum_test_counts
    assert count({('a', ''): 100}, 0.29) == {('a', ''): 29}
    elpv = {
        ('p0', 'mono'): 588,
        ('p0', 'poly'): 920,
        ('p33', 'mono'): 117,
        ('p33', 'poly'): 178,
        ('p67', 'mono'): 56,
        ('p67', 'poly'): 50,
        ('p100', 'mono'): 313,
        ('p100', 'poly'): 402
    }
    # floors 147 230 29 44 14 12 78 100 (654); .5 remainders: 402, 178, 50 -> 402 and 178
    assert count(elpv, 0.25) == {
        ('p0', 'mono'): 147,
        ('p0', 'poly'): 230,
        ('p33', 'mono'): 29,
        ('p33', 'poly'): 45,
        ('p67', 'mono'): 14,
        ('p67', 'poly'): 12,
        ('p100', 'mono'): 78,
        ('p100', 'poly'): 101
    }


def test_same_seed_same_split_other_seed_another(labelled, tmp_path):
    labels, images, _ = labelled
    samples = read_labels_csv(labels, images, ['group'])
    records = []
    for name, seed in (('one', 0), ('two', 0), ('three', 1)):
        prepare_split(str(tmp_path / name), images, samples, 0.25, seed)
        with open(tmp_path / name / 'meta' / 'split.csv', 'rb') as file:
            records.append(file.read())
    assert records[0] == records[1]
    assert records[0] != records[2]
    # another seed changes which images, not how many per stratum
    other = read_record(str(tmp_path / 'three'))
    assert Counter((r['label'], r['group']) for r in other if r['split'] == 'test') == TEST_BY_HAND
    # and the order of the samples given does not matter
    train, test = split_samples(list(reversed(samples)), 0.25, 0)
    assert [s.path for s in test] == sorted(r['path'] for r in read_record(str(tmp_path / 'one'))
                                            if r['split'] == 'test')


def test_custom_dataset_reads_the_layout(labelled, tmp_path):
    """As a config reads it: mmpretrain reads ``classes`` from the working folder, not from
    ``data_root``, so a config gives the whole path (data/mine/meta/classes.txt)."""
    labels, images, truth = labelled
    out = str(tmp_path / 'out')
    train, test = prepare_split(out, images, read_labels_csv(labels, images), 0.25, seed=0)
    classes = ['a', 'b', 'c']  # sorted labels
    with open(osp.join(out, 'meta', 'classes.txt')) as file:
        assert file.read().split() == classes
    for part, members in (('train', train), ('test', test)):
        dataset = CustomDataset(
            data_root=out,
            ann_file=f'meta/{part}.txt',
            data_prefix='images',
            classes=osp.join(out, 'meta', 'classes.txt'),
            with_label=True,
            pipeline=[])
        assert len(dataset) == len(members)
        assert dataset.CLASSES == tuple(classes)
        for k in range(len(dataset)):
            info = dataset.get_data_info(k)
            path = osp.relpath(info['img_path'], osp.join(out, 'images')).replace(os.sep, '/')
            assert info['gt_label'] == classes.index(truth[path][0])
            with open(info['img_path'], 'rb') as copy, open(osp.join(images, path), 'rb') as src:
                assert copy.read() == src.read()
    assert len(train) + len(test) == len(truth)


def test_class_folders(tmp_path):
    names = [
        f'{label}/{sub}img{k}.png' for label, n in (('cat', 4), ('dog', 8)) for k in range(n)
        for sub in ['' if k % 2 else 'deep/']
    ]
    write_images(tmp_path / 'tree', names)
    (tmp_path / 'tree' / 'notes.txt').write_text('not a class')
    (tmp_path / 'tree' / 'dog' / 'readme.txt').write_text('not an image')
    samples = read_class_folders(str(tmp_path / 'tree'))
    assert sorted(s.path for s in samples) == sorted(names)
    assert {s.path: s.label for s in samples} == {n: n.split('/')[0] for n in names}
    train, test = split_samples(samples, 0.25, 0)
    assert Counter(s.label for s in test) == {'cat': 1, 'dog': 2}
    assert Counter(s.label for s in train) == {'cat': 3, 'dog': 6}


@pytest.mark.parametrize('case, line, message',
                         [('missing column', 1, 'no column group'),
                          ('empty label', 3, 'empty label'), ('empty group', 4, 'empty group'),
                          ('no file', 3, 'does not exist'),
                          ('duplicate', 4, 'duplicate path a0.png (first on line 2)'),
                          ('outside', 2, 'not relative to the images folder')])
def test_bad_csv_is_refused_naming_its_line(tmp_path, case, line, message):
    write_images(tmp_path / 'images', [f'{c}{k}.png' for c in 'ab' for k in range(4)])
    rows = [(f'{c}{k}.png', c, 'x') for c in 'ab' for k in range(4)]
    header = ('path', 'label', 'group')
    if case == 'missing column':
        header, rows = ('path', 'label'), [r[:2] for r in rows]
    elif case == 'empty label':
        rows[1] = (rows[1][0], ' ', 'x')
    elif case == 'empty group':
        rows[2] = (rows[2][0], 'a', '')
    elif case == 'no file':
        rows[1] = ('a9.png', 'a', 'x')
    elif case == 'duplicate':
        rows[2] = ('./a0.png', 'a', 'x')
    else:
        rows[0] = ('../images/a0.png', 'a', 'x')
    labels = write_csv(tmp_path / 'labels.csv', rows, header)
    with pytest.raises(SplitError) as error:
        read_labels_csv(labels, str(tmp_path / 'images'), ['group'])
    assert f'{labels}:{line}: ' in str(error.value) and message in str(error.value)


def test_a_class_too_small_for_both_parts_is_refused(tmp_path):
    write_images(tmp_path / 'images',
                 [f'{c}{k}.png' for c, n in (('a', 8), ('rare', 1)) for k in range(n)])
    rows = [(f'{c}{k}.png', c) for c, n in (('a', 8), ('rare', 1)) for k in range(n)]
    labels = write_csv(tmp_path / 'labels.csv', rows, ('path', 'label'))
    samples = read_labels_csv(labels, str(tmp_path / 'images'))
    out = tmp_path / 'out'
    with pytest.raises(SplitError, match=r"class 'rare' has 1 image\(s\)"):
        prepare_split(str(out), str(tmp_path / 'images'), samples, 0.25, 0)
    assert not out.exists()


def test_a_failed_write_leaves_nothing_and_keeps_the_old_split(labelled, tmp_path, monkeypatch):
    labels, images, _ = labelled
    samples = read_labels_csv(labels, images, ['group'])
    copies = []

    def failing_copy(src, dst):
        copies.append(src)
        if len(copies) == 5:
            raise OSError('disk full')
        shutil.copyfile(src, dst)

    monkeypatch.setattr(split_module.shutil, 'copyfile', failing_copy)
    with pytest.raises(OSError, match='disk full'):
        prepare_split(str(tmp_path / 'out'), images, samples, 0.25, 0)
    assert sorted(os.listdir(tmp_path)) == ['images', 'labels.csv']  # no out, no temp folder

    monkeypatch.undo()
    prepare_split(str(tmp_path / 'out'), images, samples, 0.25, 0)
    before = read_record(str(tmp_path / 'out'))
    monkeypatch.setattr(split_module.shutil, 'copyfile', failing_copy)
    copies.clear()
    with pytest.raises(OSError, match='disk full'):
        prepare_split(str(tmp_path / 'out'), images, samples, 0.25, 1, force=True)
    assert read_record(str(tmp_path / 'out')) == before
    assert sorted(os.listdir(tmp_path)) == ['images', 'labels.csv', 'out']


def test_an_existing_split_is_replaced_only_if_the_same_or_forced(labelled, tmp_path):
    labels, images, _ = labelled
    samples = read_labels_csv(labels, images, ['group'])
    out = str(tmp_path / 'out')
    prepare_split(out, images, samples, 0.25, 0)
    prepare_split(out, images, samples, 0.25, 0)  # the same split again: fine
    first = read_record(out)
    with pytest.raises(SplitError, match='holds another split.*--force'):
        prepare_split(out, images, samples, 0.25, 1)
    assert read_record(out) == first
    prepare_split(out, images, samples, 0.25, 1, force=True)
    assert read_record(out) != first
    other = tmp_path / 'mine'
    other.mkdir()
    (other / 'precious.txt').write_text('keep')
    with pytest.raises(SplitError, match='is no split'):
        prepare_split(str(other), images, samples, 0.25, 0, force=True)
    assert (other / 'precious.txt').read_text() == 'keep'
    with pytest.raises(SplitError, match='inside the images folder'):
        prepare_split(osp.join(images, 'split'), images, samples, 0.25, 0)


def run_tool(*args):
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    return subprocess.run([
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'dataset_converters', 'split_dataset.py'), *args
    ],
                          capture_output=True,
                          text=True,
                          env=env,
                          timeout=300)


def test_the_tool(labelled, tmp_path):
    labels, images, _ = labelled
    out = str(tmp_path / 'out')
    result = run_tool('--labels', labels, '--images', images, '--out', out, '--stratify-by',
                      'group', '--classes', 'c', 'b', 'a')
    assert result.returncode == 0, result.stderr
    assert '30 train / 10 test images' in result.stdout
    with open(osp.join(out, 'meta', 'classes.txt')) as file:
        assert file.read().split() == ['c', 'b', 'a']
    test = Counter((r['label'], r['group']) for r in read_record(out) if r['split'] == 'test')
    assert test == TEST_BY_HAND
    with open(osp.join(out, 'meta', 'train.txt')) as file:
        indices = {line.rsplit(' ', 1)[0]: int(line.rsplit(' ', 1)[1]) for line in file}
    assert all(indices[p] == 'cba'.index(p.split('/')[1][0]) for p in indices)

    with open(labels, 'a') as file:
        file.write('missing.png,a,x\n')
    result = run_tool('--labels', labels, '--images', images, '--out', str(tmp_path / 'bad'))
    assert result.returncode != 0 and f'{labels}:42: ' in result.stderr
    assert not (tmp_path / 'bad').exists()
