"""Which dev scores of a finished run lie outside (chance, 99): the check that explore_demo.py makes it on
its in-process runs, over a workflow run's results/scores.parquet.

    python demo-tuning/check_demo_scores.py .        # a clone where `snakemake --cores 2` finished
"""

import sys
from pathlib import Path

import pandas as pd

from explore_demo import chance  # majority-class dev accuracy; 0 for MCC and correlation

results = Path(sys.argv[1] if len(sys.argv) > 1 else ".") / "results"
scores = pd.read_parquet(results / "scores.parquet").query("task != 'Avg'")
floor = chance(results, scores.task.unique())
outside = scores[[not floor[r.task] < r.score < 99 for r in scores.itertuples()]]
print(f"{len(outside)} of {len(scores)} dev scores outside (chance, 99); chance: "
      + ", ".join(f"{task} {value:.1f}" for task, value in floor.items()))
if len(outside):
    print(outside.to_string(index=False))
