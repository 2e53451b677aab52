"""Two-fold kNN accuracy against a case by hand and a brute-force nearest neighbour in NumPy
(k=1: the vote is the nearest bank image's label, whatever the weights)."""
import numpy as np
import pytest
import torch

from simmim_mm.evaluation import two_fold_knn_accuracy


def nearest_neighbour_accuracy(features: np.ndarray, labels: np.ndarray,
                               folds: np.ndarray) -> float:
    unit = features / np.linalg.norm(features, axis=1, keepdims=True)
    correct = 0
    for i in range(len(features)):
        bank = np.flatnonzero(folds != folds[i])
        nearest = bank[np.argmax(unit[bank] @ unit[i])]
        correct += labels[nearest] == labels[i]
    return 100 * correct / len(features)


def test_by_hand():
    # class 0 points along x, class 1 along y; folds alternate
    features = torch.tensor([[1., 0.1], [0.9, 0.], [0.1, 1.], [0., 0.8]])
    labels = torch.tensor([0, 0, 1, 1])
    folds = torch.tensor([0, 1, 0, 1])
    assert two_fold_knn_accuracy(features, labels, folds, k=1) == 100.0
    # relabel point 3: its nearest bank neighbour (point 2, class 1) now disagrees, and point
    # 2's nearest bank neighbour (point 3, class 0) too: 2 of 4 right
    wrong = torch.tensor([0, 0, 1, 0])
    assert two_fold_knn_accuracy(features, wrong, folds, k=1) == 50.0


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_one_neighbour_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(40, 5))
    labels = rng.integers(0, 3, size=40)
    folds = rng.permutation(np.arange(40) % 2)  # folds of equal size, in any order
    expected = nearest_neighbour_accuracy(features, labels, folds)
    assert two_fold_knn_accuracy(
        torch.from_numpy(features).float(), torch.from_numpy(labels), torch.from_numpy(folds),
        k=1) == pytest.approx(expected)
