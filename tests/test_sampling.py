"""Task sampling proportions |D_t|^0.75 and exact coverage at exponent 1."""

import numpy as np

from bam_core.method.sampling import allocate, sample_epoch, task_probabilities

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
