"""Known-answer tests of the analysis scripts under scripts/ that the explore log quotes."""

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from bam_core.data.synthetic import SUITE


def script(name):
    spec = importlib.util.spec_from_file_location(name, Path(__file__).parents[1] / "scripts" / f"{name}.py")
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
