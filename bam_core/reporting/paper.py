"""The paper's published numbers (Clark et al. 2019, GLUE dev medians), as data for paper_vs_run.

Keys are this project's variant ids (config.yaml `variants`), so a run's medians line up with the
paper's by name; a variant with another id names the paper's model it reproduces in its `paper` key
(Multi trained at other settings: `paper: multi`). Source: DESIGN.md section 4, copied from the paper's
Tables 1-5.
"""

from __future__ import annotations

# Table 1 column order: Avg first, then the eight tasks.
TABLE1_COLUMNS = ("Avg", "CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE")

# |D|: GLUE train sizes as the paper prints them.
TASK_SIZES = {"CoLA": "8.5k", "SST-2": "67k", "MRPC": "3.7k", "STS-B": "5.8k",
              "QQP": "364k", "MNLI": "393k", "QNLI": "108k", "RTE": "2.5k"}


def _row(*scores: float) -> dict[str, float]:
    return dict(zip(TABLE1_COLUMNS, scores))


# Table 1: median GLUE dev scores over >= 20 seeds.
TABLE1 = {
    "single": _row(84.0, 60.6, 93.2, 88.0, 90.0, 91.3, 86.6, 92.3, 70.4),
    "multi": _row(85.5, 60.3, 93.3, 88.0, 89.8, 91.4, 86.5, 92.2, 82.1),
    "single-single": _row(84.3, 61.7, 93.2, 88.7, 90.0, 91.4, 86.8, 92.5, 70.0),
    "multi-multi": _row(85.6, 60.9, 93.5, 88.1, 89.8, 91.5, 86.7, 92.3, 82.0),
    "single-multi": _row(86.0, 61.8, 93.6, 89.3, 89.7, 91.6, 87.0, 92.5, 82.8),
}

# Table 2: GLUE test score of BERT-Large + BAM (best-dev Single->Multi run).
TABLE2_TEST_SCORE = 82.3

# Table 3: Avg of the model without fine-tuning, and the gain from single-task fine-tuning.
TABLE3 = {"multi-ft": ("multi", 85.5, +0.3), "single-multi-ft": ("single-multi", 86.0, +0.1)}

# Table 4: Avg of Single->Multi, and each ablation's difference from it.
TABLE4_REFERENCE = ("single-multi", 86.0)
TABLE4 = {
    "ablation-no-layerwise-lr": -0.3,
    "ablation-no-task-sampling": -0.4,
    "ablation-lambda-0": -0.5,
    "ablation-lambda-0.5": -0.3,
}

# Table 5: RTE dev score by the set of tasks trained on (all distilled from Single teachers).
TABLE5_TASK = "RTE"
TABLE5 = {"single-single": 70.0, "rte-mnli": 83.4, "rte-qqp-cola-sst2": 75.1, "single-multi": 82.8}


# Every model the paper reports a number for: the values a variant's `paper` key may take.
MODELS = tuple(dict.fromkeys([*TABLE1, *TABLE3, *TABLE4, *TABLE5]))


def table1_score(variant: str, task: str) -> float | None:
    """The paper's Table 1 median for (variant, task), None where the paper has none."""
    return TABLE1.get(variant, {}).get(task)
