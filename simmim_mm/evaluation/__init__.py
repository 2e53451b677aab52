from .cka import linear_cka
from .frozen_probe import knn_probe
from .knn import embed_dataset, knn_accuracy, knn_classify, pooled_features, two_fold_knn_accuracy
from .metrics import GroupedAccuracy, PerClassRecall, ReconstructionLossMetric

__all__ = [
    'GroupedAccuracy', 'PerClassRecall', 'ReconstructionLossMetric', 'embed_dataset',
    'knn_accuracy', 'knn_classify', 'knn_probe', 'linear_cka', 'pooled_features',
    'two_fold_knn_accuracy'
]
