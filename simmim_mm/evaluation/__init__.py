from .knn import embed_dataset, knn_accuracy, knn_classify, pooled_features
from .metrics import ReconstructionLossMetric

__all__ = ['ReconstructionLossMetric', 'embed_dataset', 'knn_accuracy', 'knn_classify',
           'pooled_features']
