"""`bam figures --scores S --settings J --runs-dir results/runs --out-dir results/figures`

One PNG per task (and Avg): every variant's seed distribution, a box over the seeds' scores with the
seeds themselves as jittered points, the paper's median marked where it has one (real data only:
synthetic scores are on another scale; on Avg only when the run's Avg is over the paper's eight tasks). `training_curve.png`: lambda and loss over training for the
first seed of the Single->Multi run (teacher annealing at work).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on cluster nodes
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bam_core.errors import BamError  # noqa: E402
from bam_core.io import atomic_output  # noqa: E402
from bam_core.reporting.paper import TABLE1_COLUMNS, table1_score  # noqa: E402
from bam_core.reporting.report_settings import ReportSettings, load  # noqa: E402
from bam_core.reporting.stats import read_scores  # noqa: E402

log = logging.getLogger(__name__)


def save(fig, path: Path) -> None:
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)


def axis_label(variant: str, task: str, settings: ReportSettings) -> str:
    """The variant's label; on Avg, a task-subset variant (Table 5) says how few tasks its Avg covers."""
    trained = settings.variant_tasks.get(variant)
    if task == "Avg" and trained is not None and len(trained) < len(settings.tasks):
        return f"{settings.label(variant)}\n(Avg of {len(trained)} of {len(settings.tasks)} tasks)"
    return settings.label(variant)


def paper_median(variant: str, task: str, settings: ReportSettings) -> float | None:
    """The paper's median to mark, None where it would compare unlike things: synthetic scores, or an Avg
    over other tasks than the paper's eight."""
    if settings.source == "synthetic" or (task == "Avg" and set(settings.tasks) != set(TABLE1_COLUMNS[1:])):
        return None
    return table1_score(variant, task)


def seed_distribution(scores: pd.DataFrame, task: str, settings: ReportSettings):
    """Box + strip of each variant's seed scores on `task`; variants in the config's (the paper's) order."""
    variants = [v for v in settings.order if ((scores["variant"] == v) & (scores["task"] == task)).any()]
    samples = [scores.loc[(scores["variant"] == v) & (scores["task"] == task), "score"].dropna().to_numpy()
               for v in variants]
    fig, ax = plt.subplots(figsize=(max(4.0, 0.7 * len(variants) + 1.5), 3.6))
    positions = np.arange(1, len(variants) + 1)
    ax.boxplot(samples, positions=positions, widths=0.5, showfliers=False, medianprops={"color": "black"})
    jitter = np.random.default_rng(0)  # fixed: the same scores give the same picture
    for pos, sample in zip(positions, samples):
        ax.scatter(pos + jitter.uniform(-0.15, 0.15, sample.size), sample, s=12, alpha=0.6, color="tab:blue")
    marks = [(pos, paper_median(v, task, settings)) for pos, v in zip(positions, variants)]
    marks = [(pos, m) for pos, m in marks if m is not None]
    if marks:
        xs, ys = zip(*marks)
        ax.scatter(xs, ys, marker="D", s=30, color="tab:red", zorder=3, label="paper median")
        ax.legend(loc="best", fontsize=8)
    ax.set_xticks(positions, [axis_label(v, task, settings) for v in variants], rotation=35, ha="right", fontsize=8)
    ax.set_ylabel(f"{task} dev score")
    ax.set_title(f"{task}: scores over seeds ({settings.source} data)")
    return fig


def training_curve(runs_dir: str | Path, variant: str, label: str | None = None):
    """lambda and training loss against step for `variant`'s first seed (its first group)."""
    histories = sorted(Path(runs_dir, variant).glob("*/*/history.parquet"),
                       key=lambda p: (int(p.parts[-3]) if p.parts[-3].isdigit() else 1 << 62, p.parts[-2]))
    fig, ax = plt.subplots(figsize=(6, 3.6))
    if not histories:
        log.warning("no history.parquet under %s/%s: training_curve.png says so", runs_dir, variant)
        ax.text(0.5, 0.5, f"no training history for {variant}", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    history = pd.read_parquet(histories[0])
    if history.empty:
        raise BamError(f"{histories[0]}: empty history")
    ax.plot(history["step"], history["loss"], color="tab:blue", label="loss")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss", color="tab:blue")
    lam = ax.twinx()
    lam.plot(history["step"], history["lambda"], color="tab:orange", label="λ")
    lam.set_ylabel("λ (weight of the gold label)", color="tab:orange")
    lam.set_ylim(-0.05, 1.05)
    seed, group = histories[0].parts[-3], histories[0].parts[-2]
    ax.set_title(f"{label or variant}, seed {seed} ({group}): teacher annealing")
    return fig


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bam figures", description=__doc__.splitlines()[0])
    parser.add_argument("--scores", required=True)
    parser.add_argument("--settings", required=True)
    parser.add_argument("--runs-dir", required=True)
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--curve-variant", default="single-multi", help="whose lambda/loss curve to draw")
    args = parser.parse_args(argv)
    settings, scores = load(args.settings), read_scores(args.scores)
    out = Path(args.out_dir)
    for task in ["Avg", *settings.tasks]:
        save(seed_distribution(scores, task, settings), out / f"seeds_{task}.png")
    curve = training_curve(args.runs_dir, args.curve_variant, settings.label(args.curve_variant))
    save(curve, out / "training_curve.png")
    return 0
