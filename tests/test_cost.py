"""Cost per variant from runs' metrics.json: runs, wall hours, GPU hours, median examples/s."""

from pathlib import Path

import pandas as pd
import pytest

from bam_core.errors import BamError
from bam_core.io import write_json
from bam_core.reporting import cost


def _metrics(root: Path, variant: str, seed: int, group: str, device: str, wall: float, eps: float) -> str:
    path = root / "runs" / variant / str(seed) / group / "metrics.json"
    write_json({"device": device, "wall_seconds": wall, "examples_per_second": eps}, path)
    return str(path)


def test_cost_table_by_hand(tmp_path):
    paths = [
        _metrics(tmp_path, "single", 0, "CoLA", "cpu", 1800.0, 10.0),
        _metrics(tmp_path, "single", 0, "RTE", "cpu", 900.0, 30.0),
        _metrics(tmp_path, "single", 1, "CoLA", "cpu", 900.0, 20.0),
        _metrics(tmp_path, "single-multi", 0, "all", "cuda", 7200.0, 500.0),
        _metrics(tmp_path, "single-multi", 1, "all", "cpu", 3600.0, 100.0),
    ]
    assert cost.main(["--metrics", *paths, "--out-dir", str(tmp_path / "tables")]) == 0
    table = pd.read_parquet(tmp_path / "tables" / "cost.parquet")
    expected = pd.DataFrame({
        "variant": ["single", "single-multi"], "runs": [3, 2],
        "wall_hours": [1.0, 3.0], "gpu_hours": [0.0, 2.0], "median_examples_per_second": [20.0, 300.0]})
    pd.testing.assert_frame_equal(table, expected.astype({"runs": "int64"}))
    tex = (tmp_path / "tables" / "cost.tex").read_text()
    assert "single\\_multi" not in tex and "single-multi & 2 & 3.000 & 2.000 & 300.0 \\\\" in tex
    assert "\\toprule" in tex and "\\bottomrule" in tex


def test_path_must_be_a_run(tmp_path):
    path = tmp_path / "metrics.json"
    write_json({}, path)
    with pytest.raises(BamError, match="not a run's metrics"):
        cost.run_costs([str(path)])


def test_missing_key_named(tmp_path):
    path = tmp_path / "runs" / "single" / "0" / "CoLA" / "metrics.json"
    write_json({"device": "cpu"}, path)
    with pytest.raises(BamError, match="metrics.json has no 'wall_seconds'"):
        cost.run_costs([str(path)])
