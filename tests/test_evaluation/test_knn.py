"""kNN on frozen features: pooling per encoder, the weighted vote, embedding a dataset."""
import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate
from PIL import Image
from torch.utils.data import DataLoader

from simmim_mm.evaluation import embed_dataset, knn_accuracy, knn_classify, pooled_features
from simmim_mm.registry import DATASETS, MODELS


def blobs(per_class, seed, num_classes=3, dims=16):
    """Well separated Gaussian clusters around random directions."""
    rng = torch.Generator().manual_seed(seed)
    centres = torch.randn(num_classes, dims, generator=torch.Generator().manual_seed(0)) * 3
    labels = torch.arange(num_classes).repeat_interleave(per_class)
    return centres[labels] + torch.randn(len(labels), dims, generator=rng), labels


def test_knn_separates_separable_clusters():
    bank, bank_labels = blobs(30, seed=1)
    queries, labels = blobs(20, seed=2)
    assert knn_accuracy(bank, bank_labels, queries, labels, k=20) >= 95.0
    # ...and is at chance when the bank labels say nothing
    shuffled = bank_labels[torch.randperm(
        len(bank_labels), generator=torch.Generator().manual_seed(0))]
    assert knn_accuracy(bank, shuffled, queries, labels, k=20) < 70.0


def test_vote_is_weighted_by_similarity_and_k_may_exceed_the_bank():
    bank = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    labels = torch.tensor([0, 0, 1])
    query = torch.tensor([[0.1, 1.0]])
    # one very similar neighbour of class 1 outvotes two far ones of class 0
    assert knn_classify(bank, labels, query, k=10, temperature=0.07).tolist() == [1]
    assert knn_classify(bank, labels, query, k=1).tolist() == [1]
    with pytest.raises(ValueError, match='k >= 1'):
        knn_classify(bank, labels, query, k=0)


def test_pooling_of_swin_maps_and_vit_tokens():
    maps = torch.randn(2, 8, 3, 3)
    torch.testing.assert_close(pooled_features((maps, )), maps.mean((2, 3)))
    tokens = torch.randn(2, 1 + 9, 8)
    tokens[:, 0] = 1000.0  # the cls token is left out
    torch.testing.assert_close(pooled_features([tokens], num_extra_tokens=1), tokens[:, 1:].mean(1))
    with pytest.raises(ValueError, match=r'\(B, C, h, w\) or \(B, N, C\)'):
        pooled_features(torch.randn(2, 8))


@pytest.mark.parametrize(
    'backbone', [
        dict(
            type='SimMIMSwinTransformer',
            img_size=64,
            drop_path_rate=0.0,
            arch=dict(embed_dims=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2]),
            stage_cfgs=dict(block_cfgs=dict(window_size=2))),
        dict(
            type='SimMIMViT',
            img_size=64,
            arch=dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)),
    ],
    ids=['swin', 'vit'])
def test_embed_dataset_gives_a_vector_and_label_per_image(tmp_path, backbone):
    for label in range(2):
        (tmp_path / f'c{label}').mkdir()
        for i in range(3):
            Image.fromarray(np.full((64, 64, 3), 60 + 120 * label,
                                    np.uint8)).save(tmp_path / f'c{label}' / f'{i}.png')
    dataset = DATASETS.build(
        dict(
            type='CustomDataset',
            data_root=str(tmp_path),
            pipeline=[dict(type='LoadImageFromFile'),
                      dict(type='PackInputs')]))
    model = MODELS.build(
        dict(
            type='SimMIM',
            backbone=backbone,
            neck=dict(
                type='SimMIMDecoder', encoder_stride=32 if 'Swin' in backbone['type'] else 16),
            head=dict(type='SimMIMReconstructionHead')))
    model.eval()
    features, labels = embed_dataset(model,
                                     DataLoader(dataset, batch_size=4, collate_fn=default_collate))
    width = 128 if 'Swin' in backbone['type'] else 32
    assert features.shape == (6, width) and labels.tolist() == [0, 0, 0, 1, 1, 1]
