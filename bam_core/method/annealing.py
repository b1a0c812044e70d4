"""Teacher annealing: the weight lambda of the gold label in the distillation target.

target = lambda * gold + (1 - lambda) * teacher. Linear annealing (the paper) moves lambda from 0
(pure distillation) to 1 (pure supervision): at step s of S (s counted from 0) lambda = s / S, so
the first step is pure distillation (0) and the last step is (S - 1) / S. A number fixes lambda
(the paper's ablations use 0 and 0.5).
"""

from __future__ import annotations


def teacher_annealing(step: int, total_steps: int, annealing: str | float) -> float:
    if annealing == "linear":
        return step / total_steps
    return float(annealing)
