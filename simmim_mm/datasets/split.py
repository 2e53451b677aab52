"""A seeded, stratified train / test split of labelled images, written as plain folders and
annotation files that mmpretrain's ``CustomDataset`` reads (no Python needed by the user).

The layout, under ``out``::

    images/<relative path>   the images, copied
    meta/train.txt           "<path relative to images/> <class index>" per line
    meta/test.txt            the same, the held-out part
    meta/classes.txt         one class name per line, in class-index order
    meta/split.csv           the record: path,label,group,split

The rule (``split_samples``): the samples are grouped into strata by their label and group
(the ``--stratify-by`` columns, jointly). The test part takes ``ceil(fraction * N)`` of all
N samples, as scikit-learn's ``StratifiedShuffleSplit`` does; each stratum of n gives
``floor(fraction * n)``, and the rest go one each to the strata with the largest remainder
``fraction * n - floor(fraction * n)``, so that every stratum is within one of its share.
Where scikit-learn breaks ties at random, here the larger stratum wins, then the stratum
whose (label, group) sorts first. Which samples of a stratum go to test: its paths, sorted,
shuffled by ``random.Random(f'{seed}/{label}/{group}')``, the first ones. The same seed and
samples give the same split on any machine, and adding a class leaves the others' unchanged.
"""
import csv
import io
import math
import os
import os.path as osp
import random
import shutil
from collections import Counter, defaultdict
from fractions import Fraction
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp')
GROUP_SEPARATOR = '/'  # between the values of several --stratify-by columns


class SplitError(ValueError):
    """Input that cannot make a split; the message names the file, line or class."""


class Sample(NamedTuple):
    path: str  # relative to the images folder, with '/' separators
    label: str
    group: str = ''  # the stratify-by values, joined by GROUP_SEPARATOR


def checked_image_path(path: str, images_dir: str, where: str) -> str:
    """``path`` checked (relative, inside the images folder, an existing file) and normalised
    to '/' separators."""
    if not path:
        raise SplitError(f'{where}: empty path')
    if '\n' in path or path != path.strip():
        raise SplitError(f'{where}: path {path!r} has leading or trailing spaces')
    norm = osp.normpath(path)
    if osp.isabs(path) or norm == '..' or norm.startswith('..' + os.sep):
        raise SplitError(f'{where}: path {path!r} is not relative to the images folder '
                         f'{images_dir}')
    if not osp.isfile(osp.join(images_dir, norm)):
        raise SplitError(f'{where}: {osp.join(images_dir, norm)} does not exist')
    return norm.replace(os.sep, '/')


def read_labels_csv(csv_path: str, images_dir: str,
                    stratify_by: Sequence[str] = ()) -> List[Sample]:
    """The samples of a CSV with a header of at least ``path,label`` (paths relative to
    ``images_dir``); ``stratify_by`` names extra columns whose values form each sample's
    group. Raises SplitError naming the CSV's line for a missing column, an empty value, a
    missing or duplicate path."""
    if not osp.isdir(images_dir):
        raise SplitError(f'{images_dir}: the images folder does not exist')
    columns = [c for c in stratify_by if c != 'label']
    with open(csv_path, newline='', encoding='utf-8-sig') as file:
        reader = csv.DictReader(file)
        header = reader.fieldnames or []
        missing = [c for c in ['path', 'label', *columns] if c not in header]
        if missing:
            raise SplitError(f'{csv_path}:1: the header {",".join(header) or "(empty)"} has '
                             f'no column {", ".join(missing)}')
        samples, seen = [], {}
        for row in reader:
            where = f'{csv_path}:{reader.line_num}'
            for column in ['label', *columns]:
                if not (row[column] or '').strip():
                    raise SplitError(f'{where}: empty {column}')
            path = checked_image_path(row['path'] or '', images_dir, where)
            if path in seen:
                raise SplitError(f'{where}: duplicate path {path} (first on line {seen[path]})')
            seen[path] = reader.line_num
            group = GROUP_SEPARATOR.join(row[c].strip() for c in columns)
            samples.append(Sample(path, row['label'].strip(), group))
    if not samples:
        raise SplitError(f'{csv_path}: no rows below the header')
    return samples


def read_class_folders(root: str) -> List[Sample]:
    """One class per subfolder of ``root`` (its name is the label); its images are found
    at any depth below it."""
    if not osp.isdir(root):
        raise SplitError(f'{root}: the class folder tree does not exist')
    samples = []
    for label in sorted(os.listdir(root)):
        if not osp.isdir(osp.join(root, label)):
            continue
        for folder, dirs, files in os.walk(osp.join(root, label)):
            dirs.sort()
            for name in sorted(files):
                if name.lower().endswith(IMAGE_EXTENSIONS):
                    path = osp.relpath(osp.join(folder, name), root)
                    samples.append(Sample(path.replace(os.sep, '/'), label))
    if not samples:
        raise SplitError(f'{root}: no images in class subfolders ({", ".join(IMAGE_EXTENSIONS)})')
    return samples


def stratum_test_counts(sizes: Dict[tuple, int], fraction: float) -> Dict[tuple, int]:
    """How many samples of each stratum go to test (the rule in this module's docstring),
    in exact arithmetic: 0.29 is 29/100, not the float below it."""
    exact = Fraction(str(float(fraction)))
    total = math.ceil(exact * sum(sizes.values()))
    counts = {key: math.floor(exact * n) for key, n in sizes.items()}
    by_remainder = sorted(
        sizes, key=lambda key: (counts[key] - exact * sizes[key], -sizes[key], key))
    for key in by_remainder[:total - sum(counts.values())]:
        counts[key] += 1
    return counts


def split_samples(samples: Iterable[Sample],
                  test_fraction: float = 0.25,
                  seed: int = 0) -> Tuple[List[Sample], List[Sample]]:
    """(train, test), each sorted by path: stratified by (label, group), seeded. Raises
    SplitError if a class would have no image in one of the parts."""
    if not 0 < test_fraction < 1:
        raise SplitError(f'test fraction {test_fraction}: it must be between 0 and 1')
    strata = defaultdict(list)
    for sample in samples:
        strata[(sample.label, sample.group)].append(sample)
    counts = stratum_test_counts({key: len(value) for key, value in strata.items()}, test_fraction)
    train, test = [], []
    for key in sorted(strata):
        members = sorted(strata[key])
        random.Random(f'{seed}/{key[0]}/{key[1]}').shuffle(members)
        test += members[:counts[key]]
        train += members[counts[key]:]
    in_test = Counter(s.label for s in test)
    for label, n in sorted(Counter(s.label for s in train + test).items()):
        n_test = in_test[label]
        if n_test == 0 or n_test == n:
            raise SplitError(
                f'class {label!r} has {n} image(s): a test fraction of {test_fraction} puts '
                f'{n_test} in test and {n - n_test} in train; each part needs at least one '
                '(add images of it, or change the test fraction)')
    return sorted(train), sorted(test)


def _write_text(path: str, lines: Iterable[str]) -> None:
    with open(path, 'w', encoding='utf-8', newline='\n') as file:
        file.writelines(f'{line}\n' for line in lines)


def _split_record(train: List[Sample], test: List[Sample]) -> str:
    """meta/split.csv's text: path,label,group,split, sorted by path."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\n')
    writer.writerow(['path', 'label', 'group', 'split'])
    rows = sorted([(s, 'train') for s in train] + [(s, 'test') for s in test])
    writer.writerows([s.path, s.label, s.group, part] for s, part in rows)
    return buffer.getvalue()


def write_split(out_dir: str,
                images_dir: str,
                train: List[Sample],
                test: List[Sample],
                classes: Optional[Sequence[str]] = None,
                force: bool = False) -> str:
    """Write the layout (this module's docstring) into ``out_dir`` atomically: into a
    temporary folder beside it, renamed to ``out_dir`` when complete. An existing split with
    another record (meta/split.csv) is replaced only with ``force``; an existing folder that
    is no split, never. ``classes`` fixes the class-index order (default: sorted labels).
    Returns the record's text."""
    labels = sorted({s.label for s in train + test})
    classes = list(classes) if classes is not None else labels
    unknown = sorted(set(labels) - set(classes))
    if unknown or len(set(classes)) != len(classes):
        raise SplitError(f'classes {classes}: they must be distinct and name every label '
                         f'(missing: {unknown})')
    record = _split_record(train, test)
    out_dir = osp.abspath(out_dir)
    inside = osp.relpath(osp.realpath(out_dir), osp.realpath(images_dir))
    if inside != '..' and not inside.startswith('..' + os.sep):
        raise SplitError(f'{out_dir} is inside the images folder {images_dir}: a later split '
                         'would take its copies for images; choose an output folder outside it')
    old_record = osp.join(out_dir, 'meta', 'split.csv')
    if osp.exists(out_dir):
        if not osp.isfile(old_record):
            if not osp.isdir(out_dir) or os.listdir(out_dir):
                raise SplitError(f'{out_dir} exists and is no split (no meta/split.csv): '
                                 'choose another output folder or remove it')
        else:
            with open(old_record, encoding='utf-8') as file:
                if file.read() != record and not force:
                    raise SplitError(f'{out_dir} holds another split ({old_record} differs): '
                                     'pass --force to replace it')
    parent, name = osp.split(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = osp.join(parent, f'.{name}.{os.getpid()}.tmp')
    old = osp.join(parent, f'.{name}.{os.getpid()}.old')
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(osp.join(tmp, 'meta'))
        for sample in train + test:
            target = osp.join(tmp, 'images', *sample.path.split('/'))
            os.makedirs(osp.dirname(target), exist_ok=True)
            shutil.copyfile(osp.join(images_dir, *sample.path.split('/')), target)
        index = {name: i for i, name in enumerate(classes)}
        for part, members in (('train', train), ('test', test)):
            _write_text(
                osp.join(tmp, 'meta', f'{part}.txt'),
                (f'{s.path} {index[s.label]}' for s in members))
        _write_text(osp.join(tmp, 'meta', 'classes.txt'), classes)
        with open(osp.join(tmp, 'meta', 'split.csv'), 'w', encoding='utf-8', newline='') as file:
            file.write(record)
        if osp.exists(out_dir):
            os.rename(out_dir, old)
        try:
            os.rename(tmp, out_dir)
        except OSError:
            if osp.exists(old):
                os.rename(old, out_dir)
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return record


def prepare_split(out_dir: str,
                  images_dir: str,
                  samples: List[Sample],
                  test_fraction: float = 0.25,
                  seed: int = 0,
                  classes: Optional[Sequence[str]] = None,
                  force: bool = False) -> Tuple[List[Sample], List[Sample]]:
    """Split ``samples`` (images under ``images_dir``) and write the layout to ``out_dir``."""
    train, test = split_samples(samples, test_fraction, seed)
    write_split(out_dir, images_dir, train, test, classes, force)
    return train, test


def summary(train: List[Sample], test: List[Sample], classes: Sequence[str]) -> str:
    """Per class: train and test counts, for the tools to print."""
    lines = [f'{len(train)} train / {len(test)} test images']
    for name in classes:
        lines.append(f'  {name}: {sum(s.label == name for s in train)} / '
                     f'{sum(s.label == name for s in test)}')
    return '\n'.join(lines)
