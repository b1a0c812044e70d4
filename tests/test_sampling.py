"""Task sampling proportions |D_t|^0.75, exact coverage at exponent 1, and the reference's epoch."""

import numpy as np
import pytest

from bam_core.method.sampling import (
    allocate,
    epoch_examples,
    planned_steps,
    reference_copies,
    sample_epoch,
    task_probabilities,
)

SIZES = [8500, 67000, 3700, 2500]  # CoLA, SST-2, MRPC, RTE
# GLUE training sizes, MRPC and STS-B doubled (double_unordered): CoLA, MNLI, MRPC, QNLI, QQP, SST-2, STS-B, RTE
GLUE_V1 = [8551, 392702, 2 * 3668, 108436, 363869, 67349, 2 * 5749, 2490]  # the reference's table (QNLI v1)
GLUE_HUB = [8551, 392702, 2 * 3668, 104743, 363846, 67349, 2 * 5749, 2490]  # nyu-mll/glue, paper.yaml's data



def test_an_epoch_draws_each_task_in_proportion_to_size_to_the_075():
    # 16^0.75 = 2^3 = 8, 81^0.75 = 3^3 = 27, 256^0.75 = 4^3 = 64; 8 + 27 + 64 = 99
    np.testing.assert_allclose(task_probabilities([16, 81, 256], 0.75), [8 / 99, 27 / 99, 64 / 99], rtol=1e-12)
    # 1188 = 12 x 99 draws: 96, 324 and 768 examples, i.e. exactly 6, 4 and 3 passes over the tasks
    tasks, rows = sample_epoch(np.random.default_rng(0), [16, 81, 256], 0.75, 1188)
    assert np.bincount(tasks).tolist() == [96, 324, 768]
    for t, (size, passes) in enumerate([(16, 6), (81, 4), (256, 3)]):
        assert np.bincount(rows[tasks == t], minlength=size).tolist() == [passes] * size


def test_exponent_one_visits_every_example_exactly_once():
    sizes = [7, 3, 5]
    tasks, rows = sample_epoch(np.random.default_rng(1), sizes, 1.0, 15)
    for t, size in enumerate(sizes):
        assert sorted(rows[tasks == t].tolist()) == list(range(size))


def test_allocate_largest_remainder():
    # 10 * (0.5, 0.3, 0.2) exactly; 7 * (0.5, 0.3, 0.2) = (3.5, 2.1, 1.4): floors (3, 2, 1), the extra to task 0
    assert allocate(10, np.array([0.5, 0.3, 0.2])).tolist() == [5, 3, 2]
    assert allocate(7, np.array([0.5, 0.3, 0.2])).tolist() == [4, 2, 1]


def test_reference_copies_of_glue():
    # by hand: copies_t = round((392702 / |D_t|)^0.25 + 0.01 / |D_t|): CoLA 2.60, MRPC 2.70, QNLI 1.38,
    # QQP 1.02, SST-2 1.55, STS-B 2.42, RTE 3.54
    assert reference_copies(GLUE_V1) == [3, 1, 3, 1, 1, 2, 2, 4]
    assert reference_copies(GLUE_HUB) == [3, 1, 3, 1, 1, 2, 2, 4]
    # STS-B undoubled (5749): (392702 / 5749)^0.25 = 2.87 -> 3 copies; the reference's table is the doubled one
    assert reference_copies([392702, 5749]) == [1, 3]
    assert reference_copies(GLUE_V1, exponent=1.0) == [1] * 8  # no task sampling: one copy of everything
    # without MNLI the largest task present has one copy: SST-2 67349; RTE (67349 / 2490)^0.25 = 2.28 -> 2
    assert reference_copies([67349, 2490, 8551]) == [1, 2, 2]  # CoLA (7.88)^0.25 = 1.68 -> 2


def test_epoch_sizes_and_paper_steps():
    # 3*8551 + 392702 + 3*7336 + 108436 + 363869 + 2*67349 + 2*11498 + 4*2490 (the 1,080,322)
    assert epoch_examples(GLUE_V1, "reference_copies") == 1_080_322
    assert epoch_examples(GLUE_HUB, "reference_copies") == 1_076_606
    assert epoch_examples(GLUE_V1, "sum_of_sizes") == 962_231
    # paper.yaml's multi run: 6 epochs of batch 128 on the hub's data: ceil(1076606 / 128) = 8411 batches,
    # 6 * 8411 = 50466 steps (the reference: int(batches_per_epoch * epochs)); v1 sizes: 8441 * 6 = 50646
    assert planned_steps(GLUE_HUB, 128, 6, "reference_copies") == 50_466
    assert planned_steps(GLUE_V1, 128, 6, "reference_copies") == 50_646
    assert planned_steps(GLUE_HUB, 128, 6, "sum_of_sizes") == 44_934  # ceil(958515 / 128) = 7489, * 6


def test_single_task_epoch_is_the_task():
    # RTE single (batch 32, 3 epochs): ceil(2490 / 32) = 78 batches, 234 steps, either definition
    assert planned_steps([2490], 32, 3, "reference_copies") == planned_steps([2490], 32, 3, "sum_of_sizes") == 234
    assert planned_steps([100], 16, 0.5, "sum_of_sizes") == 3  # int(7 * 0.5)
    with pytest.raises(ValueError, match="unknown epoch definition 'twice'"):
        epoch_examples([10], "twice")
