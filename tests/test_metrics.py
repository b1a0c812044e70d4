import pytest

from bam_core.data.tasks import get_task
from bam_core.method.metrics import average_ranks, f1, pearson, task_score


def test_mcc_cola():
    # tp=2 tn=2 fp=1 fn=0: (2*2 - 1*0) / sqrt(3*2*3*2) = 4/6
    assert task_score(get_task("CoLA"), [1, 1, 0, 0, 1], [1, 0, 0, 0, 1]) == pytest.approx(100 * 4 / 6)


def test_mcc_is_zero_for_a_constant_prediction():
    assert task_score(get_task("CoLA"), [1, 1, 1], [1, 0, 1]) == 0.0


def test_average_ranks_share_ties():
    assert average_ranks([3.0, 1.0, 3.0, 2.0, 3.0]).tolist() == [4.0, 1.0, 4.0, 2.0, 4.0]  # 3s take ranks 3, 4, 5


def test_spearman_stsb():
    # ranks (1, 3, 2, 4) vs (1, 2, 3, 4): sum d^2 = 2, rho = 1 - 6*2 / (4*15) = 0.8
    assert task_score(get_task("STS-B"), [0.1, 0.4, 0.3, 0.9], [1.0, 2.0, 3.0, 4.0]) == pytest.approx(80.0)


def test_accuracy_rest():
    assert task_score(get_task("MNLI"), [0, 1, 2, 2], [0, 1, 2, 0]) == 75.0


def test_spearman_ties_take_their_mean_rank():
    # pred ranks (1.5, 1.5, 3, 4), gold ranks (1, 2, 3, 4): means 2.5; deviations (-1, -1, .5, 1.5) and
    # (-1.5, -.5, .5, 1.5): cov 1.5 + .5 + .25 + 2.25 = 4.5, var 1+1+.25+2.25 = 4.5 and 5: rho = 4.5 / sqrt(22.5)
    assert task_score(get_task("STS-B"), [0.2, 0.2, 0.5, 0.9], [1.0, 2.0, 3.0, 4.0]) == pytest.approx(
        100 * 4.5 / 22.5**0.5)


def test_spearman_is_zero_for_a_constant_prediction():
    assert task_score(get_task("STS-B"), [0.5, 0.5, 0.5], [1.0, 2.0, 3.0]) == 0.0


def test_f1_of_the_positive_class():
    # pred 1 1 0 0 1 1, gold 1 0 1 0 1 0: tp=2 fp=2 fn=1 -> 2*2 / (4 + 2 + 1) = 4/7
    assert f1([1, 1, 0, 0, 1, 1], [1, 0, 1, 0, 1, 0]) == pytest.approx(4 / 7)
    assert f1([0, 0, 0], [1, 0, 1]) == 0.0  # no positive predicted


def test_pearson():
    # x (1, 2, 3, 4) vs y (2, 1, 4, 3): deviations (-1.5, -.5, .5, 1.5) and (-.5, -1.5, 1.5, .5):
    # cov .75 + .75 + .75 + .75 = 3, var 5 and 5: r = 3 / 5
    assert pearson([1.0, 2.0, 3.0, 4.0], [2.0, 1.0, 4.0, 3.0]) == pytest.approx(0.6)
    assert pearson([0.5, 0.5, 0.5], [1.0, 2.0, 3.0]) == 0.0


def test_declared_task_scores_with_its_metric():
    from bam_core.data.custom_tasks import parse_declaration

    task = parse_declaration("Para", {"files": {"train": "t.csv", "dev": "d.csv"}, "text": ["a", "b"],
                                      "labels": ["no", "yes"], "metric": "f1"}).task
    assert task_score(task, [1, 1, 0, 0, 1, 1], [1, 0, 1, 0, 1, 0]) == pytest.approx(100 * 4 / 7)


def test_every_metric_fits_one_kind_of_declared_task():
    from bam_core.data.custom_tasks import CLASSIFICATION_METRICS, REGRESSION_METRICS
    from bam_core.method.metrics import METRICS

    assert sorted(CLASSIFICATION_METRICS + REGRESSION_METRICS) == sorted(METRICS)
