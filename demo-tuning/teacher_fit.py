"""How closely a teacher's training-set predictions follow its training labels, per task: the targets that
distillation without annealing (lambda = 0) trains on differ from the labels that annealing ends on only
where the teacher does not reproduce them. For each task of the synthetic suite: the share of training
examples where the teacher's class equals the (noisy) training label, equals the suite's clean rule, and where
the label equals the rule (regression: correlations). Clean labels are regenerated with label_noise 0,
by the suite's own generator: for an explore directory built with --patch the rule columns mean nothing.

    python demo-tuning/teacher_fit.py .                     # a workflow clone where the demo ran
    python demo-tuning/teacher_fit.py /tmp/explore          # an explore_demo.py --out directory
    python demo-tuning/teacher_fit.py . --scale 0.5 --seed 0 --sharing 1.0   # the suite's knobs (config.yaml's)

A teacher that reproduces its labels on nearly every training example (as the demo's small tasks' teachers
do after ~8 passes over 300 examples) gives lambda = 0 the labels themselves: annealing has nothing to correct.
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from bam_core.data import synthetic
from bam_core.data.tasks import get_task


def teacher_logits(root: Path) -> tuple[Path, pd.DataFrame]:
    """The data directory and the Single teacher's training-split logits of a clone or an explore directory."""
    if (root / "results").is_dir():
        return root / "results" / "data", pd.read_parquet(root / "results" / "teachers" / "single" / "0" /
                                                          "logits.parquet")
    return root / "data", pd.read_parquet(root / "runs" / "single" / "0" / "logits.parquet")


def fit(root: Path, seed: int, scale: float, sharing: float) -> pd.DataFrame:
    data, logits = teacher_logits(root)
    rows = []
    for task, group in logits[logits.split == "train"].groupby("task", sort=False):
        labels = pd.read_parquet(data / task / "train.parquet", columns=["idx", "label"]).set_index("idx")
        clean = synthetic.generate_split(get_task(task), "train", seed, scale, 0.0, sharing).to_pandas()
        if len(clean) != len(labels):
            raise SystemExit(f"{task}: {len(labels)} training rows, the suite at --scale {scale} makes "
                             f"{len(clean)}: pass the knobs the data was made with")
        idx = group.idx.to_numpy()
        noisy, rule = labels.label.loc[idx].to_numpy(), clean.set_index("idx").label.loc[idx].to_numpy()
        x = np.stack(group.logits.to_numpy())
        if x.shape[1] == 1:  # regression: correlations instead of agreement
            rows.append({"task": task, "teacher = label": np.corrcoef(x[:, 0], noisy)[0, 1],
                         "teacher = rule": np.corrcoef(x[:, 0], rule)[0, 1],
                         "label = rule": np.corrcoef(noisy, rule)[0, 1], "measure": "Pearson r"})
        else:
            predicted = x.argmax(1)
            rows.append({"task": task, "teacher = label": np.mean(predicted == noisy),
                         "teacher = rule": np.mean(predicted == rule), "label = rule": np.mean(noisy == rule),
                         "measure": "agreement"})
    return pd.DataFrame(rows).set_index("task")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("root", type=Path, nargs="?", default=Path("."))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scale", type=float, default=0.5)
    p.add_argument("--sharing", type=float, default=1.0)
    a = p.parse_args()
    print(fit(a.root, a.seed, a.scale, a.sharing).to_markdown(floatfmt=".2f"))
