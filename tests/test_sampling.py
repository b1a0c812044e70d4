"""Task sampling proportions |D_t|^0.75 and exact coverage at exponent 1."""

import numpy as np

from bam_core.method.sampling import allocate, sample_epoch, task_probabilities

SIZES = [8500, 67000, 3700, 2500]  # CoLA, SST-2, MRPC, RTE


def test_frequencies_of_100000_examples_follow_size_to_the_075():
    tasks, rows = sample_epoch(np.random.default_rng(0), SIZES, 0.75, 100_000)
    freq = np.bincount(tasks, minlength=4) / 100_000
    weights = np.array(SIZES, float) ** 0.75
    p = weights / weights.sum()
    # hand: p = (0.0907, 0.4167, 0.0473, 0.0353)... checked against |D|^0.75 within 4 standard errors
    se = np.sqrt(p * (1 - p) / 100_000)
    assert np.all(np.abs(freq - p) <= 4 * se), (freq, p)
    assert np.allclose(task_probabilities(SIZES, 0.75), p)
    assert all(rows[tasks == t].max() < s for t, s in enumerate(SIZES))


def test_exponent_one_visits_every_example_exactly_once():
    sizes = [7, 3, 5]
    tasks, rows = sample_epoch(np.random.default_rng(1), sizes, 1.0, 15)
    for t, size in enumerate(sizes):
        assert sorted(rows[tasks == t].tolist()) == list(range(size))


def test_allocate_largest_remainder():
    # 10 * (0.5, 0.3, 0.2) exactly; 7 * (0.5, 0.3, 0.2) = (3.5, 2.1, 1.4): floors (3, 2, 1), the extra to task 0
    assert allocate(10, np.array([0.5, 0.3, 0.2])).tolist() == [5, 3, 2]
    assert allocate(7, np.array([0.5, 0.3, 0.2])).tolist() == [4, 2, 1]
