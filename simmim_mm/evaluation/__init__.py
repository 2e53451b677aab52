from .cka import linear_cka
from .knn import embed_dataset, knn_accuracy, knn_classify, pooled_features, two_fold_knn_accuracy
from .metrics import GroupedAccuracy, PerClassRecall, ReconstructionLossMetric

__all__ = [
    'GroupedAccuracy', 'PerClassRecall', 'ReconstructionLossMetric', 'embed_dataset',
    'knn_accuracy', 'knn_classify', 'linear_cka', 'pooled_features', 'two_fold_knn_accuracy'
]
