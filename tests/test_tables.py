"""The LaTeX tables: fixture scores -> checked-in .tex (tests/fixtures/expected), and a pdflatex build."""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bam_core.errors import BamError
from bam_core.reporting import stats, tables, train_sizes

FIXTURES = Path(__file__).parent / "fixtures"
SIZES = {"CoLA": 8551, "STS-B": 5749, "RTE": 2490}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """stats for every table + `bam tables` on the fixture scores; returns the output folder."""
    root = tmp_path_factory.mktemp("report")
    for task, n in SIZES.items():
        (root / "data" / task).mkdir(parents=True)
        pd.DataFrame({"idx": np.arange(n)}).to_parquet(root / "data" / task / "train.parquet")
    common = ["--scores", str(FIXTURES / "scores.parquet"), "--settings", str(FIXTURES / "report_settings.json")]
    for name in ("table1", "table3", "table4", "table5"):
        assert stats.main([name, *common, "--out", str(root / "stats" / f"{name}.parquet")]) == 0
    assert tables.main([*common, "--stats-dir", str(root / "stats"), "--data-dir", str(root / "data"),
                        "--out-dir", str(root / "tables")]) == 0
    return root


@pytest.mark.parametrize("name", ["table1", "table3", "table4", "table5", "paper_vs_run"])
def test_table_equals_checked_in_latex(built, name):
    assert (built / "tables" / f"{name}.tex").read_text() == (FIXTURES / "expected" / f"{name}.tex").read_text()


def test_table1_stars_use_the_larger_holm_p(built):
    # Single->Multi on Avg: both Holm p's below .01 but not both below .001 -> two stars.
    t1, _ = stats.read_stats(built / "stats" / "table1.parquet")
    cell = t1[(t1.variant == "single-multi") & (t1.task == "Avg")]
    worst = cell["p_holm"].max()
    assert 0.001 <= worst < 0.01
    assert "Single$\\rightarrow$Multi & 78.9$^{**}$ &" in (built / "tables" / "table1.tex").read_text()


def test_all_tables_is_a_standalone_document(built):
    doc = (built / "tables" / "all_tables.tex").read_text()
    assert doc.startswith("\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n")
    assert doc.count("\\begin{table}") == 6 and doc.rstrip().endswith("\\end{document}")


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_all_tables_compiles(built, tmp_path):
    shutil.copy(built / "tables" / "all_tables.tex", tmp_path)
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "all_tables.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]
    assert (tmp_path / "all_tables.pdf").stat().st_size > 0


@pytest.mark.parametrize("n, label", [(86, "86"), (2490, "2.5k"), (3668, "3.7k"), (67349, "67k"), (392702, "393k")])
def test_size_label_as_the_paper_prints_it(n, label):
    assert train_sizes.size_label(n) == label


def test_latex_escape():
    assert tables.latex_escape("λ = 0.5 & 50% of Single→Multi_x") == (
        "$\\lambda$ = 0.5 \\& 50\\% of Single$\\rightarrow$Multi\\_x")


@pytest.mark.parametrize("p, expected", [(0.2, ""), (0.04, "$^{*}$"), (0.005, "$^{**}$"), (0.0001, "$^{***}$"),
                                         (0.05, ""), (float("nan"), "")])
def test_stars(p, expected):
    assert tables.stars(p, (0.05, 0.01, 0.001)) == expected


def test_number_formats():
    assert [tables.number(x, signed=True) for x in (0.34, -0.04, -1.25)] == ["+0.3", "+0.0", "-1.2"]
    assert tables.number(float("nan")) == "--"


def test_missing_train_parquet_names_the_file(tmp_path):
    with pytest.raises(BamError, match="CoLA/train.parquet: not found \\(needed for Table 1's \\|D\\| row\\)"):
        train_sizes.task_sizes(tmp_path, ["CoLA"])


def test_missing_stats_file_names_the_stage(built, tmp_path):
    args = ["--scores", str(FIXTURES / "scores.parquet"), "--settings", str(FIXTURES / "report_settings.json"),
            "--stats-dir", str(tmp_path), "--data-dir", str(built / "data"), "--out-dir", str(tmp_path / "t")]
    with pytest.raises(BamError, match=r"table1.parquet: not found \(run `bam stats table1` first\)"):
        tables.main(args)


def test_stats_from_other_settings_are_an_error(built, tmp_path):
    for name in ("table1", "table3", "table4", "table5"):
        (tmp_path / "stats").mkdir(exist_ok=True)
        shutil.copy(built / "stats" / f"{name}.parquet", tmp_path / "stats")
    t3 = pd.read_parquet(tmp_path / "stats" / "table3.parquet")
    t3[t3.task != "RTE"].to_parquet(tmp_path / "stats" / "table3.parquet")
    args = ["--scores", str(FIXTURES / "scores.parquet"), "--settings", str(FIXTURES / "report_settings.json"),
            "--stats-dir", str(tmp_path / "stats"), "--data-dir", str(built / "data"), "--out-dir", str(tmp_path / "t")]
    with pytest.raises(BamError, match="^stats for table3 have no test of multi-ft vs multi on RTE: rerun `bam stats table3`"):
        tables.main(args)
