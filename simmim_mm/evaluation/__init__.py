from .cka import linear_cka
from .knn import embed_dataset, knn_accuracy, knn_classify, pooled_features, two_fold_knn_accuracy
from .metrics import ReconstructionLossMetric

__all__ = [
    'ReconstructionLossMetric', 'embed_dataset', 'knn_accuracy', 'knn_classify', 'linear_cka',
    'pooled_features', 'two_fold_knn_accuracy'
]
