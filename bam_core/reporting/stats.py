"""`bam stats TABLE --scores results/scores.parquet --settings report.json --out results/stats/TABLE.parquet`

The paper's significance tests (DESIGN.md section 4), one table at a time:
- Table 1: one-sided bootstrap tests on the difference of medians, each model vs Single and vs Multi;
  pooled null (both groups resampled with replacement from the union), p = (1 + #{d* >= d_obs}) / (1 + B).
  The extensions table (models beyond the paper) has the same tests, in a Holm family of its own.
- Tables 3-5: one-sided Mann-Whitney U tests (3: fine-tuned > without; 4: ablation < reference;
  5: every ordered pair of the RTE models, variant > baseline); Table 4 also tests its `two_sided`
  variants two-sided against the reference (section 5: Single->Multi->Single->Multi is not
  significantly different from Single->Multi).
- Holm over every test of the table (its family).
One row per test; fewer than two seeds gives medians only, NaN scores are noted, never dropped silently.
"""

from __future__ import annotations

import argparse
import json
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from scipy.stats import mannwhitneyu
from statsmodels.stats.multitest import multipletests

from bam_core.errors import BamError
from bam_core.io import write_parquet
from bam_core.reporting.report_settings import TABLES, ReportSettings, load

COLUMNS = ["table", "variant", "baseline", "task", "test", "alternative", "n_variant", "n_baseline",
           "median_variant", "median_baseline", "statistic", "p", "p_holm"]
FEW_SEEDS_NOTE = "no test run: fewer than 2 seeds"


# --- the tests -------------------------------------------------------------------------------------

def bootstrap_test(x: np.ndarray, y: np.ndarray, resamples: int, rng: np.random.Generator) -> tuple[float, float]:
    """One-sided test of median(x) > median(y) under the pooled null: (d_obs, p)."""
    d_obs = np.median(x) - np.median(y)
    pooled = np.concatenate([x, y])
    draws = pooled[rng.integers(0, len(pooled), size=(resamples, len(pooled)))]  # (B, nx + ny)
    d_star = np.median(draws[:, : len(x)], axis=1) - np.median(draws[:, len(x):], axis=1)  # (B,)
    # A resample that reproduces d_obs up to float rounding counts as ">=" (ties favour the null).
    exceed = int(np.count_nonzero(d_star >= d_obs - 1e-9))
    return float(d_obs), (1 + exceed) / (1 + resamples)


def mannwhitney_test(x: np.ndarray, y: np.ndarray, alternative: str) -> tuple[float, float]:
    """U of x and the p of `alternative` (less, greater, two-sided), computed as R's wilcox.test does by default.

    R uses the exact distribution when both samples have < 50 values and there are no ties, else the
    normal approximation with continuity and tie correction; scipy's "auto" switches at 8 values, so the
    method is chosen here with R's rule to make the two agree.
    """
    ties = np.unique(np.concatenate([x, y])).size < x.size + y.size
    method = "exact" if not ties and x.size < 50 and y.size < 50 else "asymptotic"
    result = mannwhitneyu(x, y, alternative=alternative, method=method, use_continuity=True)
    return float(result.statistic), float(result.pvalue)


def holm(p: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values over the non-NaN entries (NaN: no test was run)."""
    p = np.asarray(p, dtype=float)
    adjusted = np.full_like(p, np.nan)
    ran = ~np.isnan(p)
    if ran.any():
        adjusted[ran] = multipletests(p[ran], method="holm")[1]
    return adjusted


def stable_rng(seed: int, *key: str) -> np.random.Generator:
    """One stream per comparison: adding a variant to a table does not change the others' p-values."""
    return np.random.default_rng([seed, zlib.crc32("|".join(key).encode())])


# --- which comparisons each table makes ---------------------------------------------------------------

def comparisons(table: str, settings: ReportSettings) -> list[tuple[str, str, str, str, str]]:
    """(variant, baseline, task, test, alternative) for every test of `table`."""
    spec = settings.table(table)
    columns = ["Avg", *settings.tasks]
    if table in ("table1", "extensions"):
        models = [v for v in spec["variants"] if v not in spec["baselines"]]
        return [(v, b, t, "bootstrap", "greater") for v in models for t in columns for b in spec["baselines"]]
    if table == "table3":
        return [(ft, base, t, "mannwhitney", "greater") for ft, base in spec["pairs"] for t in columns]
    if table == "table4":
        ref = spec["reference"]
        return ([(v, ref, t, "mannwhitney", "less") for v in spec["variants"] for t in columns]
                + [(v, ref, t, "mannwhitney", "two-sided") for v in spec.get("two_sided", []) for t in columns])
    if table == "table5":
        vs = spec["variants"]
        return [(a, b, spec["task"], "mannwhitney", "greater") for a in vs for b in vs if a != b]
    raise BamError(f"unknown table {table!r} (known: {', '.join(TABLES)})")


# --- samples, medians, notes -----------------------------------------------------------------------

def seed_samples(scores: pd.DataFrame) -> dict[tuple[str, str], pd.Series]:
    """(variant, task) -> that pair's scores indexed by seed, NaN kept."""
    ordered = scores.sort_values(["variant", "task", "seed"], kind="stable")
    return {key: group.set_index("seed")["score"] for key, group in ordered.groupby(["variant", "task"], sort=False)}


def median_scores(scores: pd.DataFrame) -> pd.Series:
    """Median over seeds per (variant, task); NaN scores left out (all NaN: NaN)."""
    return scores.groupby(["variant", "task"])["score"].median()


def _sample(samples: dict, variant: str, task: str, table: str, notes: list[str]) -> np.ndarray:
    if (variant, task) not in samples:
        raise BamError(f"scores: no scores for variant {variant!r} on task {task!r} (needed by {table})")
    series = samples[(variant, task)]
    for seed in series.index[series.isna()]:
        note = f"NaN score: {variant} on {task}, seed {seed} (left out of medians and tests)"
        if note not in notes:
            notes.append(note)
    return series.dropna().to_numpy(dtype=float)


def run_table(table: str, scores: pd.DataFrame, settings: ReportSettings) -> tuple[pd.DataFrame, list[str]]:
    """Every test of `table` with Holm-adjusted p-values, and the table's notes."""
    samples, notes, rows, few = seed_samples(scores), [], [], set()
    stats = settings.statistics
    for variant, baseline, task, test, alternative in comparisons(table, settings):
        x = _sample(samples, variant, task, table, notes)
        y = _sample(samples, baseline, task, table, notes)
        statistic = p = np.nan
        if min(x.size, y.size) < 2:
            few.update(v for v, s in ((variant, x), (baseline, y)) if s.size < 2)
        elif test == "bootstrap":
            rng = stable_rng(stats.seed, table, variant, baseline, task)
            statistic, p = bootstrap_test(x, y, stats.bootstrap_resamples, rng)
        else:
            statistic, p = mannwhitney_test(x, y, alternative)
        med = lambda s: float(np.median(s)) if s.size else np.nan  # noqa: E731
        rows.append((table, variant, baseline, task, test, alternative, x.size, y.size, med(x), med(y), statistic, p))
    out = pd.DataFrame(rows, columns=COLUMNS[:-1])
    out["p_holm"] = holm(out["p"].to_numpy())
    out = out.astype({"n_variant": "int64", "n_baseline": "int64", **{c: "float64" for c in COLUMNS[8:]}})
    if few:
        notes.insert(0, f"{FEW_SEEDS_NOTE} ({', '.join(sorted(few))})")
    return out, notes


def read_stats(path: str | Path) -> tuple[pd.DataFrame, list[str]]:
    """A stats parquet and its notes (kept in the schema metadata)."""
    table = pq.read_table(path)
    meta = table.schema.metadata or {}
    return table.to_pandas(), json.loads(meta.get(b"notes", b"[]"))


def read_scores(path: str | Path) -> pd.DataFrame:
    try:
        scores = pd.read_parquet(path)
    except FileNotFoundError:
        raise BamError(f"{path}: scores file not found") from None
    missing = {"variant", "seed", "task", "score"} - set(scores.columns)
    if missing:
        raise BamError(f"{path}: missing columns {', '.join(sorted(missing))}")
    return scores


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bam stats", description=__doc__.splitlines()[0])
    parser.add_argument("table", choices=TABLES)
    parser.add_argument("--scores", required=True)
    parser.add_argument("--settings", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    settings = load(args.settings)
    result, notes = run_table(args.table, read_scores(args.scores), settings)
    write_parquet(result, args.out, metadata={"notes": json.dumps(notes), "table": args.table})
    return 0
