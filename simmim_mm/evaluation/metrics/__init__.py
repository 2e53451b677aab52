from .grouped_accuracy import GroupedAccuracy
from .per_class_recall import PerClassRecall
from .reconstruction_loss import ReconstructionLossMetric

__all__ = ['GroupedAccuracy', 'PerClassRecall', 'ReconstructionLossMetric']
