"""Time the reporting stage at the paper's size: `python benchmarks/stats_tables.py`

20 seeds, every variant of Tables 1, 3, 4 and 5, the 8 GLUE tasks, 10,000 bootstrap resamples:
all four tables' statistics, then the LaTeX tables. Target: under 30 s on 2 CPU cores.
"""

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bam_core.data.tasks import PAPER_TASKS
from bam_core.io import write_json, write_parquet
from bam_core.reporting import stats, tables
from bam_core.reporting.paper import TABLE1
from bam_core.reporting.report_settings import load

VARIANTS = {"single": "Single", "multi": "Multi", "single-single": "Single→Single", "multi-multi": "Multi→Multi",
            "single-multi": "Single→Multi", "multi-ft": "Multi + fine-tuning",
            "single-multi-ft": "Single→Multi + fine-tuning", "ablation-no-layerwise-lr": "No layer-wise LRs",
            "ablation-no-task-sampling": "No task sampling", "ablation-lambda-0": "λ = 0",
            "ablation-lambda-0.5": "λ = 0.5", "rte-mnli": "RTE+MNLI", "rte-qqp-cola-sst2": "RTE+QQP+CoLA+SST-2"}
SETTINGS = {
    "variants": {v: {"label": label} for v, label in VARIANTS.items()},
    "tasks": list(PAPER_TASKS), "source": "synthetic",
    "statistics": {"bootstrap_resamples": 10_000, "seed": 0, "levels": [0.05, 0.01, 0.001]},
    "tables": {
        "table1": {"variants": ["single", "multi", "single-single", "multi-multi", "single-multi"],
                   "baselines": ["single", "multi"]},
        "table3": {"pairs": [["multi-ft", "multi"], ["single-multi-ft", "single-multi"]]},
        "table4": {"reference": "single-multi", "variants": [v for v in VARIANTS if v.startswith("ablation")]},
        "table5": {"task": "RTE", "variants": ["single-single", "rte-mnli", "rte-qqp-cola-sst2", "single-multi"],
                   "training_tasks": {"single-single": ["RTE"], "rte-mnli": ["RTE", "MNLI"],
                                      "rte-qqp-cola-sst2": ["RTE", "QQP", "CoLA", "SST-2"],
                                      "single-multi": list(PAPER_TASKS)}}},
}


def paper_sized_scores(seeds: int = 20) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frames = []
    for variant in VARIANTS:
        base = np.array([TABLE1.get(variant, TABLE1["single-multi"])[t] for t in PAPER_TASKS])
        per_seed = base + rng.normal(0, 0.7, size=(seeds, len(PAPER_TASKS)))  # (seeds, tasks)
        frame = pd.DataFrame(per_seed, columns=list(PAPER_TASKS)).assign(Avg=per_seed.mean(axis=1))
        frame = frame.rename_axis("seed").reset_index().melt("seed", var_name="task", value_name="score")
        frames.append(frame.assign(variant=variant, metric="accuracy"))
    return pd.concat(frames, ignore_index=True)[["variant", "seed", "task", "metric", "score"]]


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_json(SETTINGS, root / "settings.json")
        scores = paper_sized_scores()
        scores.to_parquet(root / "scores.parquet")
        for task in PAPER_TASKS:
            (root / "data" / task).mkdir(parents=True)
            pd.DataFrame({"idx": np.arange(100)}).to_parquet(root / "data" / task / "train.parquet")
        settings = load(root / "settings.json")
        start = time.perf_counter()
        for name in ("table1", "table3", "table4", "table5"):
            t0 = time.perf_counter()
            out, notes = stats.run_table(name, scores, settings)
            write_parquet(out, root / "stats" / f"{name}.parquet", metadata={"notes": "[]"})
            print(f"{name}: {len(out)} tests in {time.perf_counter() - t0:.2f} s")
        t_stats = time.perf_counter() - start
        t0 = time.perf_counter()
        tables.main(["--scores", str(root / "scores.parquet"), "--stats-dir", str(root / "stats"),
                     "--settings", str(root / "settings.json"), "--data-dir", str(root / "data"),
                     "--out-dir", str(root / "tables")])
        t_tables = time.perf_counter() - t0
        total = time.perf_counter() - start
        print(f"statistics {t_stats:.2f} s, tables {t_tables:.2f} s, total {total:.2f} s (target < 30 s)")
        return 0 if total < 30 else 1


if __name__ == "__main__":
    sys.exit(main())
