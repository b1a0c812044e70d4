"""Figures: one seed-distribution PNG per task and Avg, the training curve, the paper marks only on real data."""

import json
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from bam_core.reporting import figures
from bam_core.reporting.report_settings import load, parse

FIXTURES = Path(__file__).parent / "fixtures"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def scores():
    return pd.read_parquet(FIXTURES / "scores.parquet")


def _history(root: Path, seed: int, steps: int) -> None:
    d = root / "single-multi" / str(seed) / "all"
    d.mkdir(parents=True)
    step = np.arange(steps)
    pd.DataFrame({"task": "CoLA+RTE", "step": step, "lambda": step / steps, "loss": 1 / (1 + step),
                  "lr": 1e-4}).to_parquet(d / "history.parquet")


def test_cli_writes_every_png(tmp_path):
    _history(tmp_path / "runs", 0, 10)
    assert figures.main(["--scores", str(FIXTURES / "scores.parquet"), "--settings", str(FIXTURES / "report_settings.json"),
                         "--runs-dir", str(tmp_path / "runs"), "--out-dir", str(tmp_path / "fig")]) == 0
    names = sorted(p.name for p in (tmp_path / "fig").iterdir())
    assert names == ["seeds_Avg.png", "seeds_CoLA.png", "seeds_RTE.png", "seeds_STS-B.png", "training_curve.png"]
    assert all((tmp_path / "fig" / n).read_bytes()[:8] == PNG for n in names)


def test_seed_distribution_has_one_box_per_variant_and_every_seed(scores):
    settings = load(FIXTURES / "report_settings.json")
    fig = figures.seed_distribution(scores, "RTE", settings)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert len(labels) == 13 and labels[:2] == ["Single", "Multi"] and "RTE+MNLI" in labels
    points = sum(len(c.get_offsets()) for c in ax.collections)
    assert points == 13 * 20 and ax.get_legend() is None  # synthetic: no paper marks
    matplotlib.pyplot.close(fig)


def test_paper_medians_marked_on_real_data(scores):
    raw = json.loads((FIXTURES / "report_settings.json").read_text())
    raw["source"] = "glue_tsv"
    fig = figures.seed_distribution(scores, "RTE", parse(raw))
    ax = fig.axes[0]
    marks = [c for c in ax.collections if c.get_label() == "paper median"]
    assert len(marks) == 1
    # the paper's Table 1 has RTE for its five models: Single 70.4, Multi 82.1, S->S 70.0, M->M 82.0, S->M 82.8
    assert sorted(marks[0].get_offsets()[:, 1]) == [70.0, 70.4, 82.0, 82.1, 82.8]
    matplotlib.pyplot.close(fig)


def test_training_curve_reads_the_first_seed(tmp_path):
    _history(tmp_path, 0, 10)
    _history(tmp_path, 1, 30)
    fig = figures.training_curve(tmp_path, "single-multi", "Single→Multi")
    loss_ax, lam_ax = fig.axes
    assert len(loss_ax.lines[0].get_xdata()) == 10  # seed 0, not seed 1's 30 steps
    assert lam_ax.lines[0].get_ydata()[-1] == 0.9
    assert loss_ax.get_title() == "Single→Multi, seed 0 (all): teacher annealing"
    matplotlib.pyplot.close(fig)


def test_training_curve_without_runs_says_so(tmp_path):
    fig = figures.training_curve(tmp_path, "single-multi")
    assert fig.axes[0].texts[0].get_text() == "no training history for single-multi"
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize("tasks, marked", [(["CoLA", "STS-B", "RTE"], False),
                                           (["CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE"], True)])
def test_the_paper_avg_is_marked_only_over_its_eight_tasks(scores, tasks, marked):
    raw = json.loads((FIXTURES / "report_settings.json").read_text())
    raw["source"], raw["tasks"] = "glue_tsv", tasks
    fig = figures.seed_distribution(scores, "Avg", parse(raw))
    marks = [c for c in fig.axes[0].collections if c.get_label() == "paper median"]
    # the paper's Table 1 Avg: Single 84.0, Multi 85.5, S->S 84.3, M->M 85.6, S->M 86.0
    assert [sorted(m.get_offsets()[:, 1]) for m in marks] == ([[84.0, 84.3, 85.5, 85.6, 86.0]] if marked else [])
    matplotlib.pyplot.close(fig)
