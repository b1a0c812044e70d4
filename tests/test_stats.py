"""Known answers for the paper's statistics: R's wilcox.test and p.adjust, hand-computed bootstrap counts."""

import json

import numpy as np
import pandas as pd
import pytest

from bam_core.errors import BamError
from bam_core.reporting import stats
from bam_core.reporting.report_settings import load, parse
from bam_core.reporting.stats import bootstrap_test, holm, mannwhitney_test, run_table
from tests import hand_report

FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def settings():
    return load(FIXTURES / "report_settings.json")


@pytest.fixture(scope="module")
def scores():
    return pd.read_parquet(FIXTURES / "scores.parquet")


# --- Mann-Whitney and Holm against R (values printed by R 4.x with digits = 15) ------------------------

def test_mannwhitney_exact_equals_r():
    # No ties, n < 50: R and stats.mannwhitney_test both use the exact distribution.
    # R: wilcox.test(c(71.2, 69.8, 73.5, 70.9, 72.4), c(68.1, 70.1, 67.5, 69.0), alternative = "greater")
    #    -> W = 19, p-value = 0.0158730158730159
    u, p = mannwhitney_test(np.array([71.2, 69.8, 73.5, 70.9, 72.4]), np.array([68.1, 70.1, 67.5, 69.0]), "greater")
    assert u == 19.0
    assert p == pytest.approx(0.0158730158730159, abs=1e-8)


def test_mannwhitney_with_ties_equals_r_normal_approximation():
    # Ties (82.1, 83.0, 81.9 repeat): R falls back to the normal approximation with continuity and tie
    # correction; so does mannwhitney_test (scipy method="asymptotic", use_continuity=True).
    # R: wilcox.test(c(82.1, 83.0, 82.1, 84.2, 81.9, 83.0), c(81.0, 82.1, 80.5, 81.9, 82.8),
    #                alternative = "greater", exact = FALSE, correct = TRUE)
    #    -> W = 24.5, p-value = 0.0478523755874407
    x = np.array([82.1, 83.0, 82.1, 84.2, 81.9, 83.0])
    u, p = mannwhitney_test(x, np.array([81.0, 82.1, 80.5, 81.9, 82.8]), "greater")
    assert u == 24.5
    assert p == pytest.approx(0.0478523755874407, abs=1e-8)


def test_holm_equals_r():
    # R: p.adjust(c(0.0158730158730159, 0.0478523755874407, 0.04, 0.2), "holm")
    #    -> 0.0634920634920635 0.1200000000000000 0.1200000000000000 0.2000000000000000
    adjusted = holm(np.array([0.0158730158730159, 0.0478523755874407, 0.04, 0.2]))
    np.testing.assert_allclose(adjusted, [0.0634920634920635, 0.12, 0.12, 0.2], rtol=0, atol=1e-8)


def test_holm_by_hand():
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 -> 0.02, 0.03, 0.06, 0.04; running max -> 0.02, 0.03, 0.06, 0.06
    # (R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") -> 0.03 0.06 0.06 0.02)
    np.testing.assert_allclose(holm(np.array([0.01, 0.04, 0.03, 0.005])), [0.03, 0.06, 0.06, 0.02], atol=1e-12)


def test_holm_leaves_untested_rows_out_of_the_family():
    np.testing.assert_allclose(holm(np.array([0.01, np.nan, 0.04])), [0.02, np.nan, 0.04])


# --- bootstrap -------------------------------------------------------------------------------------

class FixedDraws:
    """An rng stand-in whose resample indices are chosen by hand."""

    def __init__(self, rows):
        self.rows = np.array(rows)

    def integers(self, low, high, size):
        assert (low, high, size) == (0, 6, self.rows.shape)
        return self.rows


def test_bootstrap_counts_resamples_at_or_above_the_observed_difference():
    # pooled = [10, 11, 12, 0, 1, 2]; d_obs = 11 - 1 = 10. d* per row: 10 (>=), -10, 10 (>=), 12 (>=): 3 of 4.
    rows = [[0, 1, 2, 3, 4, 5], [3, 4, 5, 0, 1, 2], [0, 0, 0, 3, 3, 3], [2, 2, 2, 3, 3, 3]]
    d, p = bootstrap_test(np.array([10.0, 11, 12]), np.array([0.0, 1, 2]), 4, FixedDraws(rows))
    assert d == 10.0
    assert p == (1 + 3) / (1 + 4)


def test_bootstrap_identical_constant_samples_give_p_one():
    # every resample's d* is 0 >= d_obs = 0: p = (1 + B) / (1 + B)
    assert bootstrap_test(np.full(4, 80.0), np.full(4, 80.0), 10_000, np.random.default_rng(0)) == (0.0, 1.0)


def test_bootstrap_identical_samples_p_near_its_exact_value():
    # x = y = [0, 1]: a median of two draws from {0, 1} is 0, .5, 1 w.p. 1/4, 1/2, 1/4, so
    # P(d* < 0) = 1/4 * 3/4 + 1/2 * 1/4 = 5/16 and P(d* >= 0) = 11/16 = 0.6875 (B=10,000: sd 0.0046)
    a = np.array([0.0, 1.0])
    for seed in range(5):
        assert bootstrap_test(a, a, 10_000, np.random.default_rng(seed))[1] == pytest.approx(0.6875, abs=0.015)


def test_bootstrap_fully_separated_p_near_its_exact_value():
    # x = [1, 1, 1], y = [0, 0, 0], d_obs = 1. Under the pooled null a median of 3 draws is 1 w.p. 1/2, so
    # P(d* >= 1) = P(median x* = 1) P(median y* = 0) = 1/4; p = (1 + #) / (1 + B) with # an integer near 2500.
    for seed in range(5):
        d, p = bootstrap_test(np.ones(3), np.zeros(3), 10_000, np.random.default_rng(seed))
        assert d == 1.0
        count = p * 10_001 - 1
        assert count == pytest.approx(round(count), abs=1e-6)
        assert p == pytest.approx(0.25, abs=0.015)


def test_bootstrap_p_stable_across_seeds():
    x = np.arange(1.0, 9.0)
    ps = [bootstrap_test(x, x - 2.5, 10_000, np.random.default_rng(seed))[1] for seed in range(5)]
    assert max(ps) - min(ps) < 0.01


# --- tables of tests -------------------------------------------------------------------------------

def test_table1_is_every_model_against_both_baselines(settings, scores):
    out, notes = run_table("table1", scores, settings)
    assert list(out.columns) == stats.COLUMNS and notes == []
    # 3 models (Single->Single, Multi->Multi, Single->Multi) x (Avg + 3 tasks) x 2 baselines
    assert len(out) == 24 and set(out["baseline"]) == {"single", "multi"}
    assert (out["test"] == "bootstrap").all() and (out["n_variant"] == 20).all()
    again, _ = run_table("table1", scores, settings)  # seeded: the same numbers every time
    pd.testing.assert_frame_equal(out, again)


def test_table1_known_answers(monkeypatch):
    """tests/hand_report.py: Single->Multi's median 83.5 beats Single's 71.5 by 12 and Multi's 80.5 by 3; every
    resample gives d* = 0, so each of the 4 tests (2 baselines x Avg, RTE) has p = 1/(1 + 999) = 0.001, and
    Holm over 4 equal p's multiplies each by 4: 0.004."""
    monkeypatch.setattr(stats, "stable_rng", lambda *key: hand_report.OneValueDraws())
    out, _ = run_table("table1", hand_report.scores(), parse(hand_report.settings(bootstrap_resamples=999)))
    assert out[["variant", "baseline", "task"]].values.tolist() == [
        ["single-multi", "single", "Avg"], ["single-multi", "multi", "Avg"],
        ["single-multi", "single", "RTE"], ["single-multi", "multi", "RTE"]]
    assert out["median_variant"].tolist() == [83.5] * 4
    assert out["median_baseline"].tolist() == [71.5, 80.5, 71.5, 80.5]
    assert out["statistic"].tolist() == [12.0, 3.0, 12.0, 3.0]
    np.testing.assert_allclose(out["p"], [0.001] * 4, rtol=1e-12)
    np.testing.assert_allclose(out["p_holm"], [0.004] * 4, rtol=1e-12)


def test_table4_tests_that_the_reference_beats_each_ablation():
    """tests/hand_report.py: every lambda = 0 score (79.5-82) is below every Single->Multi score (82.5-85).
    R: wilcox.test(c(80, 81, 82, 79.5), c(84, 82.5, 85, 83), alternative = "less") -> W = 0,
    p-value = 0.0142857142857143 (exact: 1 / choose(8, 4) = 1/70); Holm over Avg and RTE: 2/70."""
    out, _ = run_table("table4", hand_report.scores(), parse(hand_report.settings(bootstrap_resamples=999)))
    assert out[["variant", "baseline", "task", "alternative"]].values.tolist() == [
        ["ablation-lambda-0", "single-multi", "Avg", "less"], ["ablation-lambda-0", "single-multi", "RTE", "less"]]
    assert out["statistic"].tolist() == [0.0, 0.0]
    np.testing.assert_allclose(out["p"], [0.0142857142857143] * 2, rtol=1e-12)
    np.testing.assert_allclose(out["p_holm"], [0.0285714285714286] * 2, rtol=1e-12)


def test_table5_is_every_ordered_pair_on_rte(settings, scores):
    out, _ = run_table("table5", scores, settings)
    assert len(out) == 12 and set(out["task"]) == {"RTE"}
    assert not out.duplicated(["variant", "baseline"]).any()


def test_fewer_than_two_seeds_gives_medians_and_a_note(settings, scores):
    one_seed = scores[scores.seed == 0]
    out, notes = run_table("table3", one_seed, settings)
    assert out["p"].isna().all() and out["p_holm"].isna().all() and out["statistic"].isna().all()
    assert notes == ["no test run: fewer than 2 seeds (multi, multi-ft, single-multi, single-multi-ft)"]
    assert out["median_variant"].notna().all()


def test_nan_scores_are_noted_and_left_out(settings, scores):
    broken = scores.copy()
    broken.loc[(broken.variant == "multi-ft") & (broken.task == "RTE") & (broken.seed == 3), "score"] = np.nan
    out, notes = run_table("table3", broken, settings)
    assert notes == ["NaN score: multi-ft on RTE, seed 3 (left out of medians and tests)"]
    row = out[(out.variant == "multi-ft") & (out.task == "RTE")].iloc[0]
    assert row.n_variant == 19 and not np.isnan(row.p)


def test_missing_variant_task_names_both(settings, scores):
    without = scores[~((scores.variant == "rte-mnli") & (scores.task == "RTE"))]
    with pytest.raises(BamError, match=r"^scores: no scores for variant 'rte-mnli' on task 'RTE' \(needed by table5\)$"):
        run_table("table5", without, settings)


def test_cli_writes_the_table_and_its_notes(tmp_path):
    out = tmp_path / "stats" / "table3.parquet"
    assert stats.main(["table3", "--scores", str(FIXTURES / "scores.parquet"),
                       "--settings", str(FIXTURES / "report_settings.json"), "--out", str(out)]) == 0
    table, notes = stats.read_stats(out)
    assert len(table) == 8 and notes == []
    assert str(table["n_variant"].dtype) == "int64" and str(table["p"].dtype) == "float64"


# --- the settings file -------------------------------------------------------------------------------

def _raw():
    return json.loads((FIXTURES / "report_settings.json").read_text())


@pytest.mark.parametrize("edit, message", [
    (lambda r: r.pop("source"), "settings: source is missing"),
    (lambda r: r.update(source="web"), "settings: source must be one of synthetic, glue_tsv, hub, got 'web'"),
    (lambda r: r["statistics"].update(bootstrap_resamples="many"),
     "settings: statistics.bootstrap_resamples must be int, got 'many'"),
    (lambda r: r["statistics"].update(levels=[0.01, 0.05]),
     "settings: statistics.levels must be decreasing values in (0, 1), got [0.01, 0.05]"),
    (lambda r: r["tables"]["table1"].update(baselines=["single", "typo"]),
     "settings: tables.table1.baselines: unknown variant 'typo' (not in settings.variants)"),
    (lambda r: r["tables"]["table5"]["training_tasks"].pop("rte-mnli"),
     "settings: tables.table5.training_tasks.rte-mnli is missing"),
    (lambda r: r["tables"].update(table2={}), "settings: tables.table2: unknown table (known: table1, table3, table4, table5, extensions)"),
    (lambda r: r["variants"]["multi"].pop("label"), "settings: variants.multi.label is missing"),
])
def test_settings_errors_name_the_key(edit, message):
    raw = _raw()
    edit(raw)
    with pytest.raises(BamError) as err:
        parse(raw)
    assert str(err.value) == message


def test_settings_load(settings):
    assert settings.tasks == ("CoLA", "STS-B", "RTE") and settings.statistics.bootstrap_resamples == 10_000
    assert settings.label("single-multi") == "Single→Multi"


def test_extensions_table_has_table1_tests_in_a_family_of_its_own(scores):
    raw = _raw()
    raw["tables"]["extensions"] = {"variants": ["single", "multi", "single-multi"], "baselines": ["single", "multi"]}
    out, notes = run_table("extensions", scores, parse(raw))
    # 1 model x (Avg + 3 tasks) x 2 baselines, bootstrap as in Table 1
    assert len(out) == 8 and (out["test"] == "bootstrap").all() and notes == []
    assert set(out["variant"]) == {"single-multi"} and set(out["baseline"]) == {"single", "multi"}
    # Holm over these 8 tests alone: the smallest p is multiplied by 8 (Table 1's family has 24)
    smallest = out["p"].idxmin()
    assert out.loc[smallest, "p_holm"] == pytest.approx(min(1.0, 8 * out.loc[smallest, "p"]))
