"""WebDataset shards: the conversion tool's shards hold the folder's bytes; an epoch is split
into disjoint, complete parts over ranks and dataloader workers; a resumed epoch continues
exactly; local, brace-pattern, http:// and pipe: sources; bad samples and bad shards."""
import hashlib
import json
import os
import os.path as osp
import random
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from simmim_mm.datasets.shards import (
    ShardReadError,
    WebDatasetShards,
    expand_shards,
    read_index,
    read_shard,
)
from simmim_mm.datasets.shards.epoch_plan import (
    batches_read_by_worker,
    buffer_shuffle,
    worker_batches,
)
from simmim_mm.datasets.shards.writer import list_images, write_shards
from simmim_mm.registry import TRANSFORMS

from conftest import REPO_ROOT, make_images
from loopback_server import LoopbackServer


@TRANSFORMS.register_module(force=True)
class RecordSample:
    """Test pipeline: what a worker gave out, and a random draw of its augmentation seed;
    bytes that start with b'BAD' are undecodable (the pipeline drops them)."""

    def __call__(self, results):
        if results['img_bytes'].startswith(b'BAD'):
            return None
        return dict(
            digest=hashlib.sha256(results['img_bytes']).hexdigest(),
            name=results['img_path'],
            position=results['sample_idx'],
            draw=random.random())


def convert(folder, out_dir, **kwargs):
    files = list_images(folder)
    write_shards(folder, files, out_dir, log=lambda line: None, **kwargs)
    return files


@pytest.fixture(scope='module')
def shards(tmp_path_factory):
    """24 images in shards of 5, 5, 5, 5, 4: (pattern, folder, files)."""
    root = tmp_path_factory.mktemp('shards')
    make_images(root / 'images', count=24, size=(96, 96))
    files = convert(str(root / 'images'), str(root / 'out'), samples_per_shard=5)
    return str(root / 'out' / 'shards-{000000..000004}.tar'), str(root / 'images'), files


def dataset(pattern, **kwargs):
    kwargs.setdefault('batch_size', 2)
    return WebDatasetShards(pattern, pipeline=[dict(type='RecordSample')], retry_delay=0, **kwargs)


def epoch_of(data, epoch, start_batch=0, num_workers=0):
    """What the rank's DataLoader gives out in ``epoch``, sample by sample, in order."""
    data.set_epoch(epoch, start_batch)
    loader = DataLoader(
        data, batch_size=data.batch_size, num_workers=num_workers, collate_fn=lambda batch: batch)
    return [sample for batch in loader for sample in batch]


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_shards_hold_the_files_bytes_and_names(shards):
    pattern, folder, files = shards
    urls = expand_shards(pattern)
    assert [osp.basename(url) for url in urls] == [f'shards-{i:06d}.tar' for i in range(5)]
    assert read_index(osp.join(osp.dirname(urls[0]), 'index.json')) == {
        osp.basename(url): count
        for url, count in zip(urls, [5, 5, 5, 5, 4])
    }
    samples = [sample for url in urls for sample in read_shard(url)]
    assert len(samples) == len(files) == 24
    keys = [key for key, _ in samples]
    assert len(set(keys)) == 24
    for (_, members), name in zip(samples, files):
        assert set(members) == {'png', 'json'}
        assert json.loads(members['json']) == {'path': name}
        assert members['png'] == Path(osp.join(folder, name)).read_bytes()
    # read_shard's skip gives the same samples as dropping them
    assert list(read_shard(urls[1], skip=3)) == list(read_shard(urls[1]))[3:]


def test_max_shard_size_closes_shards_before_they_pass_it(tmp_path, shards):
    _, folder, files = shards
    size = sum(osp.getsize(osp.join(folder, name)) for name in files[:3]) + 3 * 2048
    convert(folder, str(tmp_path), samples_per_shard=1000, max_shard_bytes=size)
    index = read_index(str(tmp_path / 'index.json'))
    assert sum(index.values()) == 24 and max(index.values()) <= 3 and len(index) >= 8


def test_an_interrupted_conversion_continues_to_the_same_shards(tmp_path, shards, monkeypatch):
    _, folder, files = shards
    convert(folder, str(tmp_path / 'straight'), samples_per_shard=5)

    from simmim_mm.datasets.shards import writer
    real_add, calls = writer._add, []

    def add_then_die(tar, name, data):
        calls.append(name)
        if len(calls) == 17:  # in the middle of the second shard (2 members per image)
            raise KeyboardInterrupt
        real_add(tar, name, data)

    monkeypatch.setattr(writer, '_add', add_then_die)
    with pytest.raises(KeyboardInterrupt):
        convert(folder, str(tmp_path / 'resumed'), samples_per_shard=5)
    # the first shard only, complete, and no half-written file under any name
    assert sorted(os.listdir(tmp_path /
                             'resumed')) == ['.shards-progress.json', 'shards-000000.tar']
    monkeypatch.setattr(writer, '_add', real_add)
    convert(folder, str(tmp_path / 'resumed'), samples_per_shard=5)
    for name in sorted(os.listdir(tmp_path / 'straight')):
        assert digest(tmp_path / 'resumed' / name) == digest(tmp_path / 'straight' / name), name

    with pytest.raises(ValueError, match='another list of images'):
        write_shards(folder, files[:-1], str(tmp_path / 'resumed'), log=lambda line: None)


def test_unreadable_images_are_skipped_and_listed(tmp_path):
    make_images(tmp_path / 'images', count=4, size=(96, 96))
    (tmp_path / 'images' / 'broken.jpg').write_bytes(b'not a jpeg')
    lines = []
    write_shards(
        str(tmp_path / 'images'),
        list_images(str(tmp_path / 'images')),
        str(tmp_path / 'out'),
        log=lines.append)
    index = json.loads((tmp_path / 'out' / 'index.json').read_text())
    assert index['shards'] == {'shards-000000.tar': 4}
    assert index['skipped'] == ['broken.jpg']
    assert any('broken.jpg' in line for line in lines)


def test_the_conversion_tool_and_its_index_only_mode(tmp_path, shards):
    _, folder, files = shards
    tool = osp.join(REPO_ROOT, 'tools', 'dataset_converters', 'images_to_shards.py')
    run = dict(
        cwd=REPO_ROOT, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=REPO_ROOT))
    out = subprocess.run([
        sys.executable, tool, folder,
        str(tmp_path / 'out'), '--max-shard-size', '60KB', '--workers', '2'
    ], **run)
    assert out.returncode == 0, out.stderr
    index = json.loads((tmp_path / 'out' / 'index.json').read_text())
    assert index['samples'] == 24 and len(index['shards']) > 1
    names = sorted(index['shards'])
    assert f'{index["samples"]} images in {len(names)} shards' in out.stdout

    os.remove(tmp_path / 'out' / 'index.json')
    out = subprocess.run(
        [sys.executable, tool, '--index-only', *[str(tmp_path / 'out' / name) for name in names]],
        **run)
    assert out.returncode != 0  # argparse: the shards go after --index-only, source first
    out = subprocess.run([
        sys.executable, tool,
        str(tmp_path / 'out' / names[0]), '--index-only',
        *[str(tmp_path / 'out' / n) for n in names[1:]]
    ], **run)
    assert out.returncode == 0, out.stderr
    assert json.loads((tmp_path / 'out' / 'index.json').read_text())['shards'] == index['shards']


def test_round_robin_bookkeeping_matches_a_simulated_dataloader():
    for batches in range(0, 12):
        for workers in (1, 2, 3, 4):
            counts = worker_batches(batches, workers)
            assert sum(counts) == batches
            # the DataLoader asks worker 0, 1, ... in turn, skipping the ones that are done
            given, left, turn = [], list(counts), 0
            while any(left):
                if left[turn % workers]:
                    left[turn % workers] -= 1
                    given.append(turn % workers)
                turn += 1
            for done in range(batches + 1):
                for worker in range(workers):
                    assert batches_read_by_worker(done, workers, worker) == \
                        given[:done].count(worker)


def test_buffer_shuffle_is_a_permutation_within_the_buffer_reach():
    rng = np.random.default_rng(0)
    assert buffer_shuffle(10, 1, rng) == list(range(10))  # a buffer of one keeps the order
    order = buffer_shuffle(200, 16, rng)
    assert sorted(order) == list(range(200)) and order != list(range(200))
    # the j-th sample given out was read at most j + 15 samples in
    assert all(position <= j + 15 for j, position in enumerate(order))


@pytest.mark.parametrize('world_size,num_workers', [(1, 0), (2, 2)])
def test_an_epoch_is_split_disjointly_and_completely(shards, world_size, num_workers):
    pattern, folder, files = shards
    everything = sorted(digest(osp.join(folder, name)) for name in files)
    epochs = []
    for epoch in (0, 1):
        seen = []
        for rank in range(world_size):
            data = dataset(
                pattern,
                rank=rank,
                world_size=world_size,
                num_workers=num_workers,
                shuffle_buffer=4)
            samples = epoch_of(data, epoch, num_workers=num_workers)
            assert len(samples) == len(data) == 24 // world_size  # whole batches of 2
            seen += samples
        assert sorted(sample['digest'] for sample in seen) == everything  # each once
        epochs.append([sample['digest'] for sample in seen])
    assert epochs[0] != epochs[1]  # a new shard order and shuffle each epoch
    # the same seed reads the same epoch; another seed another
    again = dataset(
        pattern, rank=0, world_size=world_size, num_workers=num_workers, shuffle_buffer=4)
    assert [s['digest'] for s in epoch_of(again, 0, num_workers=num_workers)] == \
        epochs[0][:24 // world_size]


def test_left_over_samples_differ_from_epoch_to_epoch(shards):
    pattern, _, _ = shards
    data = dataset(pattern, batch_size=5)  # 24 samples: 4 batches, 4 left out
    read = [{s['digest'] for s in epoch_of(data, epoch)} for epoch in range(4)]
    assert all(len(r) == 20 for r in read) and len(set.union(*read)) == 24


@pytest.mark.parametrize('num_workers', [0, 2])
def test_a_resumed_epoch_gives_the_rest_of_the_same_epoch(shards, num_workers):
    pattern, _, _ = shards
    data = dataset(pattern, rank=1, world_size=2, num_workers=num_workers, shuffle_buffer=3)
    whole = epoch_of(data, 3, num_workers=num_workers)
    for done in range(len(whole) // 2 + 1):
        rest = epoch_of(data, 3, start_batch=done, num_workers=num_workers)
        assert rest == whole[2 * done:]  # same samples, order and augmentation draws
    assert len({sample['draw'] for sample in whole}) == len(whole)


def test_an_undecodable_sample_is_replaced_by_the_next_readable_one(tmp_path):
    folder = tmp_path / 'images'
    folder.mkdir()
    for i in range(8):
        (folder / f'{i}.png').write_bytes(b'BAD' if i in (2, 3, 7) else bytes([i]) * 10)
    with tarfile.open(tmp_path / 'x.tar', 'w') as tar:
        for path in sorted(folder.iterdir()):
            tar.add(path, arcname=path.name)
    (tmp_path / 'index.json').write_text(json.dumps({'shards': {'x.tar': 8}}))
    samples = epoch_of(dataset(str(tmp_path / 'x.tar'), shuffle_buffer=1), 0)
    assert len(samples) == 8  # the batches stay whole
    names = [sample['name'].split('#')[1] for sample in samples]
    # 2 and 3 are given as 4 (each with its own augmentation), 7 as the last readable: 6
    assert names == ['0.png', '1.png', '4.png', '4.png', '4.png', '5.png', '6.png', '6.png']
    assert len({sample['draw'] for sample in samples}) == 8


def test_http_and_pipe_shards_read_the_same_as_local_ones(shards):
    pattern, _, _ = shards
    local = epoch_of(dataset(pattern, shuffle_buffer=4), 0)
    folder = osp.dirname(pattern)
    with LoopbackServer() as server:
        for name in os.listdir(folder):
            server.files[f'/data/{name}'] = Path(osp.join(folder, name)).read_bytes()
        server.cut_once.add('/data/shards-000002.tar')  # the first read stops halfway
        remote = epoch_of(
            dataset(server.url + '/data/shards-{000000..000004}.tar', shuffle_buffer=4), 0)
        assert len([r for r in server.requests if 'shards-000002' in r[0]]) == 2  # retried
    piped = epoch_of(
        dataset(
            f'pipe:cat {folder}/shards-{{000000..000004}}.tar',
            index=osp.join(folder, 'index.json'),
            shuffle_buffer=4), 0)
    strip = [{k: v for k, v in s.items() if k != 'name'} for s in local]
    for other in (remote, piped):
        assert [{k: v for k, v in s.items() if k != 'name'} for s in other] == strip


def test_bad_shards_and_indexes_are_named(tmp_path, shards):
    pattern, _, _ = shards
    folder = osp.dirname(pattern)
    data = Path(osp.join(folder, 'shards-000001.tar')).read_bytes()
    (tmp_path / 'shards-000001.tar').write_bytes(data[:len(data) // 2])  # truncated
    (tmp_path / 'index.json').write_text(
        json.dumps({'shards': {
            'shards-000001.tar': 5,
            'shards-000009.tar': 5
        }}))
    with pytest.raises(ShardReadError, match=r'shards-000001\.tar'):
        epoch_of(dataset(str(tmp_path / 'shards-000001.tar'), batch_size=1, shuffle_buffer=1), 0)
    with pytest.raises(ShardReadError, match=r'shards-000009\.tar.*tried 4 times'):
        epoch_of(dataset(str(tmp_path / 'shards-000009.tar'), batch_size=1), 0)
    with pytest.raises(ShardReadError, match='exited with status'):
        epoch_of(
            dataset(
                'pipe:false shards-000001.tar',
                batch_size=1,
                index=str(tmp_path / 'index.json'),
                retries=1), 0)
    with pytest.raises(ValueError, match=r'not in the index .*shards-000002\.tar'):
        dataset(osp.join(str(tmp_path), 'shards-00000{1,2}.tar'))
    with pytest.raises(ValueError, match='shard_index'):
        dataset('pipe:cat shards-000001.tar')
    (tmp_path / 'bad').mkdir()
    (tmp_path / 'bad' / 'index.json').write_text('{"shards": [1, 2]}')
    with pytest.raises(ValueError, match=r'bad/index\.json: not a shard index'):
        dataset(str(tmp_path / 'bad' / 'x.tar'))
    with pytest.raises(RuntimeError, match='set_epoch'):
        list(dataset(pattern))


@pytest.mark.parametrize(
    'config,size',
    [('pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py', 192),
     ('pretrain/simmim_vit-base-p16_16xb128-amp-step-800e_in1k-224px.py', 224),
     ('distill/tinymim_vit-base-p16-to-vit-small-p16_32xb128-amp-300e_in1k-224px.py', 224)])
def test_the_recipes_read_shards_with_one_override(tmp_path, config, size):
    """`--cfg-options train_dataloader.dataset.shards=...` on a shipped recipe: the epoch
    loop's dataloader streams JPEG shards through the recipe's own pipeline."""
    from mmengine.config import Config

    from simmim_mm.engine.loops.resumable_epoch_loop import resumable_dataloader_cfg
    from simmim_mm.engine.runner import AtomicCheckpointRunner
    make_images(tmp_path / 'images', count=6, size=(300, 400))
    for path in (tmp_path / 'images').rglob('*.png'):  # JPEGs, as ImageNet's
        Image.open(path).save(path.with_suffix('.jpg'), quality=90)
        path.unlink()
    convert(str(tmp_path / 'images'), str(tmp_path / 'shards'), samples_per_shard=4)
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', config))
    cfg.merge_from_dict({
        'train_dataloader.dataset.shards':
        str(tmp_path / 'shards' / 'shards-{000000..000001}.tar'),
        'train_dataloader.batch_size':
        3,
        'train_dataloader.num_workers':
        1
    })
    assert cfg.train_cfg.type == 'ResumableEpochBasedTrainLoop'
    loader = AtomicCheckpointRunner.build_dataloader(
        resumable_dataloader_cfg(cfg.train_dataloader, seed=0))
    assert isinstance(loader.dataset, WebDatasetShards) and len(loader) == 2
    loader.dataset.set_epoch(0)
    batches = list(loader)
    assert len(batches) == 2
    for batch in batches:
        assert [tuple(img.shape) for img in batch['inputs']] == [(3, size, size)] * 3
        assert batch['inputs'][0].dtype == torch.uint8  # normalized on the device
        if 'simmim' in config:  # the mask of 32 px blocks, at the model's patch grid
            mask = torch.stack([sample.mask for sample in batch['data_samples']])
            assert mask.shape[0] == 3 and mask.float().mean() == pytest.approx(0.6, abs=0.05)


def test_a_corrupt_image_in_a_shard_is_reported_and_replaced(tmp_path):
    """The recipes' own loader on shard bytes: the skip-and-report policy of a folder."""
    make_images(tmp_path / 'images', count=5, size=(96, 96))
    (tmp_path / 'images' / 'class0' / 'img2.png').write_bytes(b'\x89PNG\r\n\x1a\n truncated')
    files = list_images(str(tmp_path / 'images'))
    # written without the converter's check, as a shard from elsewhere could be
    with tarfile.open(tmp_path / 'x.tar', 'w') as tar:
        for k, name in enumerate(files):
            tar.add(tmp_path / 'images' / name, arcname=f'{k:03d}.png')
    (tmp_path / 'index.json').write_text(json.dumps({'shards': {'x.tar': 5}}))
    data = WebDatasetShards(
        str(tmp_path / 'x.tar'),
        batch_size=5,
        shuffle_buffer=1,
        pipeline=[dict(type='LoadImageFromFileOrSkip'),
                  dict(type='PackInputs')])
    bad = files.index('class0/img2.png')
    samples = epoch_of(data, 0)
    loader = data.pipeline.transforms[0]  # what it logged, once per file
    assert [path for path, _ in loader.bad] == [f'{tmp_path / "x.tar"}#{bad:03d}.png']
    decoded = [s['inputs'].numpy().transpose(1, 2, 0)[..., ::-1] for s in samples]  # BGR
    replacement = files[bad + 1 if bad + 1 < len(files) else bad - 1]
    expected = [
        np.asarray(Image.open(tmp_path / 'images' / name).convert('RGB'))
        for name in files[:bad] + [replacement] + files[bad + 1:]
    ]
    for got, want in zip(decoded, expected):
        np.testing.assert_array_equal(got, want)


def test_shards_under_an_iteration_loop_are_a_clear_error(shards):
    from simmim_mm.engine.runner import AtomicCheckpointRunner
    with pytest.raises(
            ValueError, match="train_dataloader.dataset.shards: .*"
            "ResumableEpochBasedTrainLoop"):
        AtomicCheckpointRunner.build_dataloader(
            dict(
                batch_size=2,
                sampler=dict(type='DefaultSampler'),
                dataset=dict(type='CustomDataset', shards=shards[0], pipeline=[])))


def test_the_readmes_s3_config_streams_through_its_pipe_command(tmp_path, shards):
    """The manual's `my_shards_s3.py` (Data preparation), as written, with `aws s3 cp
    s3://my-bucket/in1k` swapped for `cat` of the test's shards: the config loads and its
    loader reads every shard."""
    from mmengine.config import Config

    from simmim_mm.engine.loops.resumable_epoch_loop import resumable_dataloader_cfg
    from simmim_mm.engine.runner import AtomicCheckpointRunner
    readme = Path(REPO_ROOT, 'docs', 'en', 'user_guides', 'data_preparation.md').read_text()
    block = readme.split('# my_shards_s3.py\n', 1)[1].split('```', 1)[0]
    folder = osp.dirname(shards[0])
    local = block.replace('aws s3 cp s3://my-bucket/in1k/',
                          f'cat {folder}/').replace(' -\'',
                                                    '\'').replace('{000000..000139}',
                                                                  '{000000..000004}')
    assert local.count(f'pipe:cat {folder}/') == 2, block
    (tmp_path / 'my_shards_s3.py').write_text(local)
    cfg = Config.fromfile(str(tmp_path / 'my_shards_s3.py'))
    cfg.merge_from_dict({'train_dataloader.batch_size': 4, 'train_dataloader.num_workers': 1})
    loader = AtomicCheckpointRunner.build_dataloader(
        resumable_dataloader_cfg(cfg.train_dataloader, seed=0))
    loader.dataset.set_epoch(0)
    assert sum(len(batch['inputs']) for batch in loader) == 24


def test_a_pipe_command_that_lost_its_spaces_says_why(tmp_path, shards):
    # what `--cfg-options train_dataloader.dataset.shards='pipe:cat /x/s.tar'` gives
    index = osp.join(osp.dirname(shards[0]), 'index.json')
    data = dataset(
        'pipe:cat' + osp.dirname(shards[0]) + '/shards-000000.tar',
        index=index,
        batch_size=1,
        retries=0)
    with pytest.raises(ShardReadError, match='MMEngine removes the spaces'):
        epoch_of(data, 0)
