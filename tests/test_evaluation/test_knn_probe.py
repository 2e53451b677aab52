"""The kNN probe of a frozen encoder (simmim_mm/evaluation/frozen_probe.py, tools/analysis/
knn_probe.py) on the ELPV fine-tuning configs and 16 generated 96 px cells: its features and
kNN against an independent computation (PIL, the encoder loaded by hand, a brute-force numpy
kNN), the checkpoint's weights against random init, and the tool's JSON."""
import json
import os.path as osp
import runpy

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmpretrain.models import SwinTransformer, VisionTransformer
from PIL import Image

from simmim_mm.evaluation import embed_dataset, knn_probe, pooled_features
from simmim_mm.evaluation.frozen_probe import FrozenEncoder, build_frozen_encoder, probe_loaders
from simmim_mm.registry import MODELS

from conftest import REPO_ROOT
from dataset_layouts import ELPV_CLASSES, elpv_folder

ELPV = osp.join(REPO_ROOT, 'configs', 'elpv')
PRETRAIN = osp.join(ELPV, 'simmim_swin-demo_1xb8-coslr-40e_elpv-96px.py')
FINETUNE = osp.join(ELPV, 'swin-demo_simmim-40e-pre_1xb32-coslr-30e_elpv-96px.py')
SCRATCH = osp.join(ELPV, 'swin-demo_1xb32-coslr-30e_elpv-96px.py')
MEAN, STD = 152.17, 40.96  # configs/_base_/datasets/elpv_classification_96.py


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    """12 training and 4 test cells of 96 x 96: the test pipeline's resize and crop keep them
    as they are."""
    return elpv_folder(
        str(tmp_path_factory.mktemp('elpv')), train_per_class=3, test_per_class=1, size=(96, 96))


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """A SimMIM pretraining checkpoint of the ELPV encoder (the pretraining config's model,
    its weights moved off any init so that they cannot be mistaken for one)."""
    torch.manual_seed(7)
    model = MODELS.build(Config.fromfile(PRETRAIN).model)
    model.init_weights()
    generator = torch.Generator().manual_seed(1)
    state = {
        k: v + 0.05 * torch.randn(v.shape, generator=generator) if v.is_floating_point() else v
        for k, v in model.state_dict().items()
    }
    path = str(tmp_path_factory.mktemp('pretrain') / 'epoch_1.pth')
    torch.save(dict(state_dict=state, meta=dict(epoch=1)), path)
    return path


def data_options(data):
    return {
        'train_dataloader.dataset.data_root': data,
        'test_dataloader.dataset.data_root': data,
        'test_dataloader.num_workers': 0,
        'test_dataloader.batch_size': 5,  # batches that do not divide the lists
    }


def config(path, data, **more):
    cfg = Config.fromfile(path)
    cfg.merge_from_dict({**data_options(data), **more})
    return cfg


def encoder_weights(checkpoint):
    state = torch.load(checkpoint, map_location='cpu', weights_only=True)['state_dict']
    return {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}


def independent_features(data, split, checkpoint):
    """Pooled last-stage features of a list, by hand: PIL reads each cell, numpy normalises
    it, a Swin built from the config's arch takes the checkpoint's encoder weights."""
    backbone = dict(Config.fromfile(FINETUNE).model.backbone)
    backbone.pop('type'), backbone.pop('init_cfg')
    encoder = SwinTransformer(**backbone)
    weights = {k: v for k, v in encoder_weights(checkpoint).items() if k != 'mask_token'}
    missing, unexpected = encoder.load_state_dict(weights, strict=False)
    assert not unexpected and all('relative_position_index' in k for k in missing)
    encoder.eval()
    with open(osp.join(data, 'meta', f'{split}.txt')) as f:
        rows = [line.split() for line in f if line.strip()]
    images = np.stack([np.asarray(Image.open(osp.join(data, 'images', name))) for name, _ in rows])
    inputs = (torch.from_numpy(images.astype(np.float32))[:, None] - MEAN) / STD
    with torch.no_grad():
        features = encoder(inputs)[-1].mean(dim=(2, 3))
    return features.numpy(), np.array([int(label) for _, label in rows])


def numpy_knn(bank, bank_labels, queries, k, temperature=0.07):
    """DINO's weighted kNN, brute force: cosine similarity to every bank vector, the k most
    similar vote with weight exp(similarity / temperature)."""
    bank = bank / np.linalg.norm(bank, axis=1, keepdims=True)
    predictions = []
    for query in queries:
        similarity = bank @ (query / np.linalg.norm(query))
        votes = np.zeros(bank_labels.max() + 1)
        for index in np.argsort(-similarity)[:k]:
            votes[bank_labels[index]] += np.exp(similarity[index] / temperature)
        predictions.append(votes.argmax())
    return np.array(predictions)


def test_probe_matches_an_independent_computation(data, checkpoint):
    cfg = config(FINETUNE, data)
    encoder = build_frozen_encoder(cfg, checkpoint)
    loaders = probe_loaders(cfg)
    features, labels = embed_dataset(encoder, loaders['train'])
    expected, expected_labels = independent_features(data, 'train', checkpoint)
    # the test pipeline, not the training one: no crop, no flip
    np.testing.assert_allclose(features.numpy(), expected, rtol=1e-4, atol=1e-5)
    assert labels.tolist() == expected_labels.tolist()

    bank, bank_labels = expected, expected_labels
    queries, query_labels = independent_features(data, 'test', checkpoint)
    result = knn_probe(FINETUNE, checkpoint, ks=(1, 3, 20), cfg_options=data_options(data))
    assert (result['train_images'], result['test_images'], result['feature_dim']) == (12, 4, 384)
    assert result['classes'] == list(ELPV_CLASSES) and result['init'] == 'checkpoint'
    for k in (1, 3, 20):  # 20: more than the 12 training cells, all of them vote
        correct = numpy_knn(bank, bank_labels, queries, k) == query_labels
        assert result['metrics'][f'knn{k}/top1'] == pytest.approx(100 * correct.mean())
        for label, name in enumerate(ELPV_CLASSES):  # one test cell per class: 0 or 100
            assert result['metrics'][f'knn{k}/recall/{name}'] == 100 * correct[label]


def test_checkpoint_weights_are_loaded_and_random_init_without_one(data, checkpoint):
    loaded = build_frozen_encoder(config(FINETUNE, data), checkpoint)
    assert not loaded.training  # eval mode: no drop path
    saved = encoder_weights(checkpoint)
    for name, value in loaded.backbone.named_parameters():
        torch.testing.assert_close(value, saved[name], rtol=0, atol=0, msg=name)

    # no checkpoint: the fine-tuning config's random init, which is the scratch config's
    # and is seeded by randomness.seed
    random = build_frozen_encoder(config(FINETUNE, data)).backbone.state_dict()
    scratch = build_frozen_encoder(config(SCRATCH, data)).backbone.state_dict()
    reseeded = build_frozen_encoder(config(FINETUNE, data, **{'randomness.seed': 1}))
    name = 'patch_embed.projection.weight'
    assert not torch.equal(random[name], saved[name])
    assert all(torch.equal(random[k], scratch[k]) for k in random)
    assert not torch.equal(reseeded.backbone.state_dict()[name], random[name])

    with pytest.raises(ValueError, match='model.backbone.init_cfg'):
        build_frozen_encoder(config(SCRATCH, data), checkpoint)


def test_tool_prints_and_writes_the_result(data, tmp_path, capsys):
    tool = runpy.run_path(osp.join(REPO_ROOT, 'tools', 'analysis', 'knn_probe.py'))
    out = tmp_path / 'probe' / 'knn.json'
    options = [f'{key}={value}' for key, value in data_options(data).items()]
    result = tool['main']([SCRATCH, '--k', '1', '3', '--out', str(out), '--cfg-options', *options])
    printed = capsys.readouterr().out
    with open(out) as f:
        written = json.load(f)
    assert written == json.loads(json.dumps(result))
    assert written['init'] == 'random' and written['checkpoint'] is None
    assert list(written['metrics']) == [
        f'knn{k}/{m}' for k in (1, 3) for m in ['top1'] + [f'recall/{c}' for c in ELPV_CLASSES]
    ]
    for key, value in written['metrics'].items():
        assert f'{key}: {value:.2f}' in printed
    assert sorted(p.name for p in out.parent.iterdir()) == ['knn.json']  # no temp file left


def test_a_backbone_that_pools_itself_gives_its_own_vector():
    """A ViT classifier's backbone (avg_featmap, as configs/finetune/vit-*: the normed mean
    of its patch tokens) already gives one vector per image: the probe embeds it unchanged."""
    torch.manual_seed(0)
    vit = VisionTransformer(
        arch=dict(embed_dims=16, num_layers=1, num_heads=2, feedforward_channels=32),
        img_size=32,
        patch_size=16,
        out_type='avg_featmap',
        final_norm=False)
    vit.eval()  # (its train() returns None)
    images = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        vectors = vit(images)[-1]
        embedded = pooled_features(FrozenEncoder(torch.nn.Identity(), vit).extract_feat(images))
    assert vectors.shape == (3, 16)
    torch.testing.assert_close(embedded, vectors, rtol=0, atol=0)
