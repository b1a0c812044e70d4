from bam_core.method.annealing import teacher_annealing


def test_linear_lambda_first_middle_last_step():
    # step s of S counted from 0: lambda = s / S, so 0 at the first step and (S-1)/S at the last
    assert teacher_annealing(0, 100, "linear") == 0.0
    assert teacher_annealing(50, 100, "linear") == 0.5
    assert teacher_annealing(99, 100, "linear") == 0.99


def test_fixed_lambda_ablation():
    assert teacher_annealing(0, 100, 0.5) == 0.5
    assert teacher_annealing(99, 100, 0.0) == 0.0
