"""k-nearest-neighbour classification on frozen encoder features: a fine-tuning-free look at
how good the representation is (the kNN monitor of DINO and others)."""
from typing import Iterable, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def pooled_features(features: Union[Tensor, Sequence[Tensor]], num_extra_tokens: int = 0) -> Tensor:
    """The encoder's last output as one vector per image: Swin maps (B, C, h, w) are
    average-pooled, ViT tokens (B, extra + L, C) averaged over the patch tokens (the cls token
    dropped), as the SimMIM linear probe does."""
    if isinstance(features, (tuple, list)):
        features = features[-1]
    if features.dim() == 4:
        return features.mean(dim=(2, 3))
    if features.dim() == 3:
        return features[:, num_extra_tokens:].mean(dim=1)
    raise ValueError('expected encoder features of shape (B, C, h, w) or (B, N, C), got '
                     f'{tuple(features.shape)}')


@torch.no_grad()
def embed_dataset(model: nn.Module, batches: Iterable[dict]) -> Tuple[Tensor, Tensor]:
    """Pooled features and ``gt_label`` of every image in ``batches`` (default_collate
    batches), through the model's data preprocessor and unmasked encoder."""
    extra = getattr(model.backbone, 'num_extra_tokens', 0)
    features, labels = [], []
    for batch in batches:
        data = model.data_preprocessor(batch, training=False)
        features.append(pooled_features(model.extract_feat(data['inputs']), extra).float())
        for sample in data['data_samples']:
            if 'gt_label' not in sample:
                raise ValueError('kNN needs labeled images: a dataset sample has no gt_label')
            labels.append(sample.gt_label.view(-1)[:1])
    return torch.cat(features).cpu(), torch.cat(labels).cpu()


def knn_classify(bank: Tensor,
                 bank_labels: Tensor,
                 queries: Tensor,
                 k: int = 20,
                 temperature: float = 0.07) -> Tensor:
    """Label of each query by a vote of its ``k`` most cosine-similar bank features, each
    weighted by ``exp(similarity / temperature)`` (DINO's weighted kNN)."""
    if k < 1 or temperature <= 0:
        raise ValueError(f'need k >= 1 and temperature > 0, got k={k}, '
                         f'temperature={temperature}')
    similarity = F.normalize(queries.float(), dim=1) @ F.normalize(bank.float(), dim=1).T
    top_sim, top_idx = similarity.topk(min(k, bank.shape[0]), dim=1)
    votes = torch.zeros(queries.shape[0], int(bank_labels.max()) + 1)
    votes.scatter_add_(1, bank_labels[top_idx], (top_sim / temperature).exp())
    return votes.argmax(dim=1)


def knn_accuracy(bank: Tensor,
                 bank_labels: Tensor,
                 queries: Tensor,
                 query_labels: Tensor,
                 k: int = 20,
                 temperature: float = 0.07) -> float:
    """kNN top-1 accuracy of the queries, in percent."""
    predicted = knn_classify(bank, bank_labels, queries, k, temperature)
    return (predicted == query_labels).float().mean().item() * 100


def two_fold_knn_accuracy(features: Tensor,
                          labels: Tensor,
                          folds: Tensor,
                          k: int = 20,
                          temperature: float = 0.07) -> float:
    """kNN top-1 accuracy (percent) over all images, each fold classified with the other
    fold as the bank (``folds`` holds 0 or 1 per image): a labelled set too small to spare a
    separate bank is used whole."""
    correct = 0
    for fold in (0, 1):
        bank, query = folds != fold, folds == fold
        predicted = knn_classify(features[bank], labels[bank], features[query], k, temperature)
        correct += (predicted == labels[query]).sum().item()
    return 100 * correct / len(labels)
