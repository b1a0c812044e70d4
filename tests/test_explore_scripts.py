"""Known-answer tests of the analysis scripts under demo-tuning/ (retuning the demo, docs/demo.md)."""

import importlib.util
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bam_core.data import synthetic
from bam_core.data.synthetic import SUITE
from bam_core.data.tasks import get_task


def script(name):
    spec = importlib.util.spec_from_file_location(name, Path(__file__).parents[1] / "demo-tuning" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def scores_table(changes):
    """Single->Multi at 80 on every task and seed; lambda 0 the same but for {seed: {task: score}}."""
    rows = []
    for seed in range(3):
        for variant, scores in (("single-multi", {}), ("lambda0", changes[seed])):
            row = {t: scores.get(t, 80.0) for t in SUITE}
            rows.append({"variant": variant, "seed": seed, **row, "Avg": sum(row.values()) / len(SUITE)})
    return pd.DataFrame(rows)


def test_annealing_pairs_splits_each_seeds_difference_into_cola_and_the_rest(tmp_path):
    pairs = script("annealing_pairs")
    scores_table([{"CoLA": 88.0, "SST-2": 76.0}, {"MRPC": 72.0}, {"CoLA": 72.0, "QNLI": 76.0}]).to_csv(
        tmp_path / "scores.csv", index=False)
    table = pairs.scores(tmp_path)
    out = pairs.pairs(table)
    assert out["Avg"].tolist() == [0.5, -1.0, -1.5]  # (+8 - 4) / 8, -8 / 8, (-8 - 4) / 8
    assert out["CoLA share"].tolist() == [1.0, 0.0, -1.0]
    assert out["other tasks' share"].tolist() == [-0.5, -1.0, -0.5]
    lines = pairs.summary(table, out)
    # one-sided Wilcoxon, exact for 3 pairs: all three below is 1/8; ranks 1, 2, 3 with only rank 1 above, 2/8
    assert lines[1] == "Avg: below on 2 of 3 seeds, mean -0.67, one-sided Wilcoxon p 0.25"
    assert lines[3] == "other tasks' share: below on 3 of 3 seeds, mean -0.67, one-sided Wilcoxon p 0.125"


def test_annealing_pairs_refuses_an_average_over_other_tasks(tmp_path):
    pairs = script("annealing_pairs")
    table = scores_table([{}, {}, {}])
    table.loc[0, "Avg"] += 1.0
    table.to_csv(tmp_path / "scores.csv", index=False)
    with pytest.raises(SystemExit, match="not the mean"):
        pairs.pairs(pairs.scores(tmp_path))


def test_teacher_fit_measures_a_teacher_against_labels_and_rule(tmp_path):
    """demo-tuning/teacher_fit.py on an explore-style directory whose 'teacher' is known: on MRPC-like its logits are
    the noisy training labels (agreement 1 with them, and with the rule exactly as often as the labels are);
    on STS-B-like its output is the clean score (r 1 with the rule)."""
    teacher_fit = script("teacher_fit")
    logits = []
    for name in ("MRPC", "STS-B"):
        task = get_task(name)
        noisy = synthetic.generate_split(task, "train", 0, 0.5, 0.3, 1.0)
        clean = synthetic.generate_split(task, "train", 0, 0.5, 0.0, 1.0)
        (tmp_path / "data" / name).mkdir(parents=True)
        pq.write_table(noisy, tmp_path / "data" / name / "train.parquet")
        y = (noisy if name == "MRPC" else clean).column("label").to_pylist()
        logits += [{"task": name, "split": "train", "idx": i, "logits": [1.0 - v, float(v)] if name == "MRPC" else [v]}
                   for i, v in enumerate(y)]
    (tmp_path / "runs" / "single" / "0").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(logits), tmp_path / "runs" / "single" / "0" / "logits.parquet")
    fit = teacher_fit.fit(tmp_path, seed=0, scale=0.5, sharing=1.0)
    mrpc, stsb = fit.loc["MRPC"], fit.loc["STS-B"]
    assert mrpc["teacher = label"] == 1.0 and mrpc["teacher = rule"] == mrpc["label = rule"]
    assert 0.65 < mrpc["label = rule"] < 0.75  # noise 0.3 replaced ~30% of the labels
    assert stsb["teacher = rule"] == pytest.approx(1.0) and stsb["teacher = label"] == pytest.approx(stsb["label = rule"])
    assert stsb["label = rule"] < 0.99
