"""The LaTeX tables: fixture scores -> checked-in .tex (tests/fixtures/expected), and a pdflatex build."""

import json
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from bam_core.errors import BamError
from bam_core.reporting import stats, tables, train_sizes
from tests import hand_report

FIXTURES = Path(__file__).parent / "fixtures"
SIZES = {"CoLA": 8551, "STS-B": 5749, "RTE": 2490}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """stats for every table + `bam tables` on the fixture scores; returns the output folder. Table 1's bootstrap
    draws are hand_report.one_value_rng's, so its stars are fixed by construction, not by NumPy's random stream:
    p = 1/10001 where a median is above the baseline's, else 1; Holm over the table's 24 tests gives 24/10001
    (two stars) to a cell above both baselines."""
    root = tmp_path_factory.mktemp("report")
    for task, n in SIZES.items():
        (root / "data" / task).mkdir(parents=True)
        pd.DataFrame({"idx": np.arange(n)}).to_parquet(root / "data" / task / "train.parquet")
    common = ["--scores", str(FIXTURES / "scores.parquet"), "--settings", str(FIXTURES / "report_settings.json")]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stats, "stable_rng", hand_report.one_value_rng)
        for name in ("table1", "table3", "table4", "table5"):
            assert stats.main([name, *common, "--out", str(root / "stats" / f"{name}.parquet")]) == 0
    assert tables.main([*common, "--stats-dir", str(root / "stats"), "--data-dir", str(root / "data"),
                        "--out-dir", str(root / "tables")]) == 0
    return root


@pytest.mark.parametrize("name", ["table1", "table3", "table4", "table5", "paper_vs_run"])
def test_table_equals_checked_in_latex(built, name):
    assert (built / "tables" / f"{name}.tex").read_text() == (FIXTURES / "expected" / f"{name}.tex").read_text()


def hand_tables(tmp_path) -> dict[str, str]:
    """stats and `bam tables` on tests/hand_report.py's scores (B = 999) under whatever rng stand-in the test set:
    name -> LaTeX."""
    (tmp_path / "data" / "RTE").mkdir(parents=True)
    pd.DataFrame({"idx": np.arange(hand_report.RTE_TRAIN_SIZE)}).to_parquet(tmp_path / "data" / "RTE" / "train.parquet")
    hand_report.scores().to_parquet(tmp_path / "scores.parquet")
    (tmp_path / "settings.json").write_text(json.dumps(hand_report.settings(bootstrap_resamples=999)))
    common = ["--scores", str(tmp_path / "scores.parquet"), "--settings", str(tmp_path / "settings.json")]
    for name in ("table1", "table3", "table4", "table5"):
        assert stats.main([name, *common, "--out", str(tmp_path / "stats" / f"{name}.parquet")]) == 0
    assert tables.main([*common, "--stats-dir", str(tmp_path / "stats"), "--data-dir", str(tmp_path / "data"),
                        "--out-dir", str(tmp_path / "tables")]) == 0
    return {name: (tmp_path / "tables" / f"{name}.tex").read_text() for name in ("table1", "table3", "table4", "table5")}


@pytest.fixture
def by_hand(tmp_path, monkeypatch):
    """The tables of tests/hand_report.py, every bootstrap resample giving d* = 0: name -> LaTeX."""
    monkeypatch.setattr(stats, "stable_rng", lambda *key: hand_report.OneValueDraws())
    return hand_tables(tmp_path)


def test_table1_by_hand(by_hand):
    # Single 70 71 72 73 -> 71.5, Multi 79 80 81 83 -> 80.5, Single->Multi 82.5 83 84 85 -> 83.5. Single->Multi's
    # 4 bootstrap tests each have p = 1/(1 + 999) = 0.001 (no resample reaches d_obs); Holm x4: 0.004, below .01
    # but not .001: two stars. Avg = RTE (one task).
    assert "$|$D$|$ &  & 2.5k \\\\\nSingle & 71.5 & 71.5 \\\\\nMulti & 80.5 & 80.5 \\\\\n" in by_hand["table1"]
    assert "Single$\\rightarrow$Multi & 83.5$^{**}$ & 83.5$^{**}$ \\\\" in by_hand["table1"]


def test_table3_by_hand(by_hand):
    # Multi + fine-tuning 84 84.5 85.5 86 -> 85.0: +4.5 over Multi's 80.5; all four above all of Multi's, so the
    # exact Mann-Whitney p is 1/choose(8, 4) = 1/70 (R: 0.0142857142857143); Holm over Avg, RTE: 2/70 = 0.029: one star
    assert "Multi & 80.5 & 80.5 \\\\\nMulti + fine-tuning & +4.5$^{*}$ & +4.5$^{*}$ \\\\" in by_hand["table3"]


def test_table4_by_hand(by_hand):
    # lambda = 0: 79.5 80 81 82 -> 80.5, 3.0 below Single->Multi's 83.5; all four below all of the reference's:
    # p = 1/70, Holm 2/70: one star
    assert "Single$\\rightarrow$Multi & 83.5 & 83.5 \\\\\n$\\lambda$ = 0 & -3.0$^{*}$ & -3.0$^{*}$ \\\\" in by_hand["table4"]


def test_table4_without_ablations_has_no_rows():
    """A config that names no ablation (`table4: {variants: []}`): the reference's row alone would compare
    nothing, so the table is empty, as Table 3 without pairs ("No rows" in the Markdown)."""
    spec = {"reference": "single-multi", "variants": [], "two_sided": []}
    settings = SimpleNamespace(table=lambda name: spec, statistics=SimpleNamespace(levels=(0.05, 0.01, 0.001)))
    r = SimpleNamespace(settings=settings, columns=["Avg", "RTE"], label=str, median=lambda v, t: 83.5,
                        p_holm=lambda *key: 1.0)
    assert tables.table4(r).empty and list(tables.table4(r).columns) == ["Avg", "RTE"]
    spec["two_sided"] = ["single-multi-single-multi"]
    assert len(tables.table4(r)) == 2  # a two-sided row is an ablation too


def test_table5_by_hand(by_hand):
    # Single->Multi above Single: p = 1/70; Single above Single->Multi: p = 1 (R: p.adjust(c(1/70, 1), "holm")
    # -> 0.0286 1): only model (2) is above another, model (1)
    assert "(1) & Single & RTE & 71.5 & -- \\\\\n(2) & Single$\\rightarrow$Multi & RTE+MNLI & 83.5 & 1 \\\\" in by_hand["table5"]


def test_table1_stars_use_the_larger_holm_p(tmp_path, monkeypatch):
    """tests/hand_report.py with 9 of B = 999 resamples reproducing d_obs against Multi and none against Single:
    p = 10/1000 vs Multi and 1/1000 vs Single (Avg and RTE alike). Holm over the 4 tests: the two 0.001's
    get 4 x 0.001 = 0.004 (below .01: two stars), the two 0.01's get max(0.004, 2 x 0.01) = 0.02 (one star).
    The cell takes the larger, Multi's: one star; the smaller would give two."""
    def rng(seed, table, variant, baseline, task):
        return hand_report.OneValueDraws() if baseline == "single" else hand_report.ReproducingDraws(9)

    monkeypatch.setattr(stats, "stable_rng", rng)
    tex = hand_tables(tmp_path)["table1"]
    out, _ = stats.read_stats(tmp_path / "stats" / "table1.parquet")
    holm = out.set_index(["baseline", "task"])["p_holm"]
    np.testing.assert_allclose([holm["single", "Avg"], holm["multi", "Avg"]], [0.004, 0.02], rtol=1e-12)
    assert "Single$\\rightarrow$Multi & 83.5$^{*}$ & 83.5$^{*}$ \\\\" in tex


def test_all_tables_is_a_standalone_document(built):
    doc = (built / "tables" / "all_tables.tex").read_text()
    assert doc.startswith("\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n")
    assert doc.count("\\begin{table}") == 6 and doc.rstrip().endswith("\\end{document}")


def test_tables_left_out_are_named_in_all_tables(built, tmp_path):
    settings = json.loads((FIXTURES / "report_settings.json").read_text())
    settings["tables"] = {"table1": settings["tables"]["table1"]}
    settings["tables_left_out"] = {"table4": "its reference 'single-multi' is not a variant of the config"}
    (tmp_path / "settings.json").write_text(json.dumps(settings))
    assert tables.main(["--scores", str(FIXTURES / "scores.parquet"), "--settings", str(tmp_path / "settings.json"),
                        "--stats-dir", str(built / "stats"), "--data-dir", str(built / "data"),
                        "--out-dir", str(tmp_path / "t")]) == 0
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == ["all_tables.tex", "paper_vs_run.tex", "table1.tex",
                                                                  "train_sizes.json"]
    doc = (tmp_path / "t" / "all_tables.tex").read_text()
    assert doc.endswith("Left out, the schema's default variants for them not being in this config: Table 4 (its "
                        "reference 'single-multi' is not a variant of the config).\n\n\\end{document}\n")


def test_paper_key_names_the_papers_model(built, tmp_path):
    # A variant whose id is not the paper's model gets that model's published numbers: Multi declared as the
    # paper's Single->Multi, its Table 1 row (86.0, 61.8, 89.7, 82.8); lambda = 0.5 as the paper's lambda = 0,
    # its Table 4 difference (-0.5, not lambda = 0.5's -0.3).
    settings = json.loads((FIXTURES / "report_settings.json").read_text())
    settings["variants"]["multi"]["paper"] = "single-multi"
    settings["variants"]["ablation-lambda-0.5"]["paper"] = "ablation-lambda-0"
    (tmp_path / "settings.json").write_text(json.dumps(settings))
    assert tables.main(["--scores", str(FIXTURES / "scores.parquet"), "--settings", str(tmp_path / "settings.json"),
                        "--stats-dir", str(built / "stats"), "--data-dir", str(built / "data"),
                        "--out-dir", str(tmp_path / "t")]) == 0
    text = (tmp_path / "t" / "paper_vs_run.tex").read_text()
    assert "Multi & paper & 86.0 & 61.8 & 89.7 & 82.8 \\\\\n & this run & 77.4 & 60.0 & 89.8 & 82.5 \\\\" in text
    assert "Table 4: $\\lambda$ = 0.5, Avg difference & -0.5 & -1.2 \\\\" in text


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


def test_extensions_table_has_table1_columns_without_the_size_row(tmp_path, monkeypatch):
    monkeypatch.setattr(stats, "stable_rng", hand_report.one_value_rng)  # stars fixed by construction
    raw = json.loads((FIXTURES / "report_settings.json").read_text())
    raw["tables"] = {"extensions": {"variants": ["single", "multi", "single-multi"], "baselines": ["single", "multi"]}}
    (tmp_path / "settings.json").write_text(json.dumps(raw))
    common = ["--scores", str(FIXTURES / "scores.parquet"), "--settings", str(tmp_path / "settings.json")]
    assert stats.main(["extensions", *common, "--out", str(tmp_path / "stats" / "extensions.parquet")]) == 0
    assert tables.main([*common, "--stats-dir", str(tmp_path / "stats"), "--data-dir", str(tmp_path / "none"),
                        "--out-dir", str(tmp_path / "tables")]) == 0
    tex = (tmp_path / "tables" / "extensions.tex").read_text()
    assert "\\caption{Beyond the paper:" in tex and "\\label{tab:extensions}" in tex and "|D|" not in tex
    # Multi's RTE scores over 20 seeds, sorted: ... 82.5 (10th), 82.5 (11th) ...: median 82.5
    assert "Multi & 77.4 & 60.0 & 89.8 & 82.5 \\\\" in tex
    # above both baselines in every column but STS-B: p = 1/10001 per test, Holm over the table's 8: 8/10001, three stars
    assert "Single$\\rightarrow$Multi & 78.9$^{***}$ & 62.9$^{***}$ & 89.7 & 83.8$^{***}$ \\\\" in tex
