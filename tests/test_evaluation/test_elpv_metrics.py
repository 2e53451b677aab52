"""GroupedAccuracy and PerClassRecall against a confusion matrix counted by hand."""
import pytest
import torch
from mmpretrain.structures import DataSample

from simmim_mm.evaluation import GroupedAccuracy, PerClassRecall

CLASSES = ('p0', 'p33', 'p67', 'p100')
# (true, predicted) of 12 test cells; the confusion matrix, rows true, columns predicted:
#          p0 p33 p67 p100
#   p0    [ 3,  1,  0,  1]    recall 3/5
#   p33   [ 1,  1,  0,  0]    recall 1/2
#   p67   [ 0,  1,  0,  1]    recall 0/2
#   p100  [ 0,  0,  1,  2]    recall 2/3
PAIRS = [(0, 0), (0, 0), (0, 0), (0, 1), (0, 3), (1, 0), (1, 1), (2, 1), (2, 3), (3, 2), (3, 3),
         (3, 3)]


def samples(scores=True):
    out = []
    for true, pred in PAIRS:
        sample = DataSample().set_gt_label(true)
        if scores:  # a softmax-like score with its maximum at the prediction
            score = torch.full((4, ), 0.1)
            score[pred] = 0.7
            sample.set_pred_score(score)
        else:
            sample.set_pred_label(pred)
        out.append(sample.to_dict())
    return out


@pytest.mark.parametrize('scores', [True, False])
def test_grouped_accuracy_counts_a_prediction_in_the_true_group_as_right(scores):
    metric = GroupedAccuracy(groups=dict(functional=[0, 1], defective=[2, 3]))
    metric.process(None, samples(scores))
    # functional = p0, p33; defective = p67, p100. Out of group: (0, 3), (2, 1): 10 of 12
    assert metric.evaluate(len(PAIRS)) == {
        'accuracy/functional-vs-defective': pytest.approx(100 * 10 / 12)
    }


def test_per_class_recall_is_one_named_scalar_per_class():
    metric = PerClassRecall()
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process(None, samples())
    assert metric.evaluate(len(PAIRS)) == {
        'recall/p0': pytest.approx(100 * 3 / 5),
        'recall/p33': pytest.approx(100 * 1 / 2),
        'recall/p67': 0.0,
        'recall/p100': pytest.approx(100 * 2 / 3),
    }


def test_per_class_recall_names_classes_by_index_without_meta():
    metric = PerClassRecall(num_classes=4)
    metric.process(None, samples(scores=False))
    assert list(metric.evaluate(len(PAIRS))) == ['recall/0', 'recall/1', 'recall/2', 'recall/3']


def test_grouped_accuracy_refuses_bad_groups():
    with pytest.raises(ValueError, match='class 1 is in more than one group'):
        GroupedAccuracy(groups=dict(a=[0, 1], b=[1, 2]))
    metric = GroupedAccuracy(groups=dict(a=[0], b=[1]))
    with pytest.raises(KeyError, match='class 3 is in no group'):
        metric.process(None, [DataSample().set_gt_label(3).set_pred_label(0).to_dict()])
