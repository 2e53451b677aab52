"""Data set-up mistakes fail at start-up with a message that says what and where."""
import pytest

from simmim_mm.registry import DATASETS


def build(root, prefix=''):
    return DATASETS.build(
        dict(
            type='CustomDataset',
            data_root=str(root),
            data_prefix=prefix,
            with_label=False,
            pipeline=[]))


def test_wrong_path_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='no-such-folder'):
        build(tmp_path / 'no-such-folder')


def test_empty_folder_is_named_with_the_extensions_expected(tmp_path):
    (tmp_path / 'empty').mkdir()
    with pytest.raises(RuntimeError, match=r'Found 0 files.*Supported extensions are.*\.jpg'):
        build(tmp_path, 'empty')


def test_folder_without_known_image_extensions(tmp_path):
    (tmp_path / 'data').mkdir()
    (tmp_path / 'data' / 'notes.txt').write_text('not an image')
    (tmp_path / 'data' / 'scan.dcm').write_bytes(b'\0' * 10)
    with pytest.raises(RuntimeError, match=r'Found 0 files.*data'):
        build(tmp_path, 'data')
