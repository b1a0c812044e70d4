"""`bam tables --scores S --stats-dir results/stats --settings J --data-dir results/data --out-dir results/tables`

The paper's Tables 1, 3, 4 and 5 as LaTeX (pandas Styler, booktabs rules), the extensions table (models
beyond the paper, in Table 1's shape), a standalone all_tables.tex that compiles with pdflatex, and
paper_vs_run.tex beside the paper's own numbers.
Cells are medians over seeds; stars mark Holm-adjusted significance at the settings' levels.
"""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from bam_core.errors import BamError
from bam_core.experiment.table_choice import left_out_note
from bam_core.io import write_json, write_text
from bam_core.reporting import paper
from bam_core.reporting.report_settings import ReportSettings, load
from bam_core.reporting.stats import median_scores, read_scores, read_stats
from bam_core.reporting.train_sizes import SIZES_FILE, size_cell, size_notes, task_sizes

log = logging.getLogger(__name__)

_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
            "→": r"$\rightarrow$", "λ": r"$\lambda$", "±": r"$\pm$", "|": r"$|$", "<": r"$<$", ">": r"$>$"}
_TRANSLATE = str.maketrans(_SPECIAL)
PREAMBLE = "\\documentclass{article}\n\\usepackage{booktabs}\n"


def latex_escape(text: str) -> str:
    """Plain text (a variant label, a task name) as LaTeX; the paper's arrows and lambda as math."""
    return str(text).translate(_TRANSLATE)


_UNESCAPE = {latex: char for char, latex in _SPECIAL.items()}
_UNESCAPE_PATTERN = re.compile("|".join(re.escape(k) for k in sorted(_UNESCAPE, key=len, reverse=True)))


def latex_unescape(text: str) -> str:
    """latex_escape undone in one pass (so an unescaped backslash is not read again)."""
    return _UNESCAPE_PATTERN.sub(lambda m: _UNESCAPE[m.group(0)], text)


def stars(p_holm: float, levels: tuple[float, ...]) -> str:
    """One star per level the (Holm-adjusted) p-value is below; none for NaN (no test)."""
    n = 0 if np.isnan(p_holm) else sum(p_holm < level for level in levels)
    return f"$^{{{'*' * n}}}$" if n else ""


def number(x: float, signed: bool = False) -> str:
    if np.isnan(x):
        return "--"
    x = round(x, 1) + 0.0  # -0.04 prints as +0.0, not -0.0
    return f"{x:+.1f}" if signed else f"{x:.1f}"


def render(cells: pd.DataFrame, caption: str, label: str, notes: list[str] = ()) -> str:
    """A DataFrame of LaTeX cell strings as a booktabs table; notes go under the tabular."""
    cells = cells.rename(index=latex_escape, columns=latex_escape)
    cells.index.name = cells.columns.name = None
    latex = cells.style.to_latex(
        hrules=True, column_format="l" * cells.index.nlevels + "r" * cells.shape[1], position="htbp",
        position_float="centering", caption=caption, label=label, multirow_align="naive",
    )
    if notes:
        text = "; ".join(latex_escape(n) for n in notes)
        latex = latex.replace("\\end{table}", f"\\par\\smallskip\\footnotesize Note: {text}.\n\\end{{table}}")
    return latex


class Report:
    """Medians, stats and settings: what every table reads."""

    def __init__(self, scores: pd.DataFrame, stats: dict[str, tuple[pd.DataFrame, list[str]]],
                 settings: ReportSettings):
        self.medians, self.stats, self.settings = median_scores(scores), stats, settings
        self.columns = ["Avg", *settings.tasks]

    def median(self, variant: str, task: str) -> float:
        if (variant, task) not in self.medians.index:
            raise BamError(f"scores: no scores for variant {variant!r} on task {task!r} (needed by the tables)")
        return float(self.medians[(variant, task)])

    def p_holm(self, table: str, variant: str, baseline: str, task: str) -> float:
        """The Holm-adjusted p of one test; stats written for other settings are an error, not a KeyError."""
        tests = self.stats[table][0]
        match = (tests["variant"] == variant) & (tests["baseline"] == baseline) & (tests["task"] == task)
        hit = tests.loc[match, "p_holm"]
        if hit.empty:
            raise BamError(f"stats for {table} have no test of {variant} vs {baseline} on {task}: "
                           f"rerun `bam stats {table}` with these settings")
        return float(hit.iloc[0])

    def label(self, variant: str) -> str:
        return self.settings.label(variant)


def table1(r: Report, sizes: dict[str, dict] | None, name: str = "table1") -> pd.DataFrame:
    """Table 1 (with its |D| row), or the extensions table in its shape (sizes None: no |D| row)."""
    spec, levels = r.settings.table(name), r.settings.statistics.levels
    rows = {"|D|": ["", *(size_cell(sizes[t]) for t in r.settings.tasks)]} if sizes is not None else {}
    for v in spec["variants"]:
        cells = []
        for t in r.columns:
            star = ""
            if v not in spec["baselines"]:  # starred only when it beats every baseline: the larger p decides
                star = stars(max(r.p_holm(name, v, b, t) for b in spec["baselines"]), levels)
            cells.append(number(r.median(v, t)) + star)
        rows[r.label(v)] = cells
    return pd.DataFrame.from_dict(rows, orient="index", columns=r.columns)


def table3(r: Report) -> pd.DataFrame:
    levels, rows = r.settings.statistics.levels, {}
    for ft, base in r.settings.table("table3")["pairs"]:
        rows[r.label(base)] = [number(r.median(base, t)) for t in r.columns]
        rows[r.label(ft)] = [number(r.median(ft, t) - r.median(base, t), signed=True)
                             + stars(r.p_holm("table3", ft, base, t), levels) for t in r.columns]
    return pd.DataFrame.from_dict(rows, orient="index", columns=r.columns)


def table4(r: Report) -> pd.DataFrame:
    """The reference's medians, then each ablation's difference from it; no rows without an ablation (the
    reference alone compares nothing), as Table 3 without pairs."""
    spec, levels = r.settings.table("table4"), r.settings.statistics.levels
    ref = spec["reference"]
    if not spec["variants"] and not spec.get("two_sided"):
        return pd.DataFrame(columns=r.columns)
    rows = {r.label(ref): [number(r.median(ref, t)) for t in r.columns]}
    for v in spec["variants"]:
        rows[r.label(v)] = [number(r.median(v, t) - r.median(ref, t), signed=True)
                            + stars(r.p_holm("table4", v, ref, t), levels) for t in r.columns]
    for v in spec.get("two_sided", []):
        rows[f"{r.label(v)} (two-sided)"] = [number(r.median(v, t) - r.median(ref, t), signed=True)
                                             + stars(r.p_holm("table4", v, ref, t), levels) for t in r.columns]
    return pd.DataFrame.from_dict(rows, orient="index", columns=r.columns)


def table4_notes(r: Report) -> list[str]:
    """What a two-sided row tests: the paper's claim (section 5) that it is no different from the reference."""
    spec = r.settings.table("table4")
    return [f"{r.label(v)} (two-sided): two-sided Mann-Whitney U against {r.label(spec['reference'])}, "
            "the paper's section 5 claim of no significant difference; stars mark a difference"
            for v in spec.get("two_sided", [])]


def table5(r: Report) -> pd.DataFrame:
    spec = r.settings.table("table5")
    task, variants, level = spec["task"], spec["variants"], r.settings.statistics.levels[0]
    rows = {}
    for i, v in enumerate(variants, 1):
        trained = spec["training_tasks"][v]
        above = [str(j) for j, b in enumerate(variants, 1) if b != v and r.p_holm("table5", v, b, task) < level]
        rows[f"({i})"] = [latex_escape(r.label(v)), latex_escape("+".join(trained)), number(r.median(v, task)),
                          ", ".join(above) or "--"]
    columns = ["Model", "Trained on", task, f"Above (Holm p < {level:g})"]
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns)


def own_tasks(r: Report) -> list[str]:
    """The run's tasks that are not GLUE's (declared in custom_tasks)."""
    return [t for t in r.settings.tasks if t not in paper.TABLE1_COLUMNS and t != "WNLI"]


def glue_or_not(r: Report, text: str) -> str:
    """A caption or title naming GLUE's dev sets, said of dev sets alone when the run has tasks of its own."""
    return text.replace("GLUE dev medians", "Dev medians") if own_tasks(r) else text


def paper_columns(r: Report) -> list[str]:
    """The run's columns the paper has: Avg and its tasks (tasks of your own are not in it); none without one."""
    tasks = [t for t in r.settings.tasks if t in paper.TABLE1_COLUMNS]
    return ["Avg", *tasks] if tasks else []


def paper_vs_run_medians(r: Report) -> pd.DataFrame:
    """Every Table 1 model's medians: a 'paper' row (Clark et al.'s Table 1) over a 'this run' row."""
    index, cells, columns = [], [], paper_columns(r)
    for v in r.settings.tables.get("table1", {}).get("variants", []) if columns else []:
        index += [(r.label(v), "paper"), (r.label(v), "this run")]
        model = r.settings.paper_model(v)
        cells.append([number(paper.table1_score(model, t) or np.nan) for t in columns])
        cells.append([number(r.median(v, t)) for t in columns])
    return pd.DataFrame(cells, index=pd.MultiIndex.from_tuples(index) if index else None, columns=columns)


def paper_vs_run_headlines(r: Report) -> pd.DataFrame:
    """Tables 3-5's headline numbers (Avg gains and differences, the Table 5 task's medians); none in a run
    without any of the paper's tasks, whose Avg has nothing in common with the paper's."""
    rows, tables, model = {}, r.settings.tables if paper_columns(r) else {}, r.settings.paper_model
    for ft, base in tables.get("table3", {}).get("pairs", []):
        gain = r.median(ft, "Avg") - r.median(base, "Avg")
        rows[f"Table 3: {r.label(ft)}, Avg gain"] = (paper.TABLE3.get(model(ft), (None, np.nan, np.nan))[2], gain, True)
    if "table4" in tables:
        ref = tables["table4"]["reference"]
        for v in tables["table4"]["variants"]:
            diff = r.median(v, "Avg") - r.median(ref, "Avg")
            rows[f"Table 4: {r.label(v)}, Avg difference"] = (paper.TABLE4.get(model(v), np.nan), diff, True)
    if "table5" in tables and tables["table5"]["task"] == paper.TABLE5_TASK:
        task = tables["table5"]["task"]
        for v in tables["table5"]["variants"]:
            rows[f"Table 5: {r.label(v)}, {task}"] = (paper.TABLE5.get(model(v), np.nan), r.median(v, task), False)
    cells = {k: [number(ours, signed), number(run, signed)] for k, (ours, run, signed) in rows.items()}
    return pd.DataFrame.from_dict(cells, orient="index", columns=["Paper", "This run"])


def paper_vs_run_notes(r: Report) -> list[str]:
    """Why the two sides may not be comparable: another data source, or an Avg over other tasks."""
    notes = ([f"this run uses the {r.settings.source} data source: its numbers are not comparable to the paper's"]
             if r.settings.source == "synthetic" else [])
    if tuple(r.settings.tasks) != paper.TABLE1_COLUMNS[1:]:
        notes.append(f"the paper's Avg is over its eight tasks, this run's over {', '.join(r.settings.tasks)}")
    own = own_tasks(r)
    if own:
        notes.append(f"tasks the paper does not have are left out of this comparison: {', '.join(own)}")
    return notes


def paper_vs_run_parts(r: Report) -> list[tuple[pd.DataFrame, str, str]]:
    """(cells, caption, label) of the comparison tables that have rows in this run's settings."""
    parts = [(paper_vs_run_medians(r), "GLUE dev medians: the paper (Clark et al., 2019) and this run.",
              "tab:paper-vs-run"),
             (paper_vs_run_headlines(r), "Headline numbers of Tables 3-5: the paper and this run.",
              "tab:paper-vs-run-2")]
    return [part for part in parts if len(part[0])]


def paper_vs_run(r: Report) -> str:
    """The paper's numbers beside this run's; notes say when they cannot be compared."""
    notes = paper_vs_run_notes(r)
    out = [render(cells, caption, label, notes) for cells, caption, label in paper_vs_run_parts(r)]
    return "\n".join(out) or "% no paper table in this run's settings\n"


CAPTIONS = {
    "table1": "GLUE dev medians over seeds. Stars: beats both baselines (bootstrap test on the difference of "
              "medians, larger of the two Holm-adjusted p-values).",
    "table3": "Single-task fine-tuning after multi-task training: the model's medians and the gain from "
              "fine-tuning (one-sided Mann-Whitney U, Holm).",
    "table4": "Ablations: medians of the reference and each ablation's difference from it (stars: reference "
              "better, one-sided Mann-Whitney U, Holm).",
    "table5": "Dev score of the target task by the set of tasks trained on; last column: models it beats "
              "(one-sided Mann-Whitney U, Holm).",
    "extensions": "Beyond the paper: GLUE dev medians over seeds, as Table 1. Stars: beats every baseline "
                  "(bootstrap test on the difference of medians, larger Holm-adjusted p; Holm over this table).",
}


def frames(r: Report, sizes: dict[str, dict]) -> dict[str, tuple[pd.DataFrame, list[str]]]:
    """table name -> (cells, notes) for the tables in the settings: built once, rendered as LaTeX here and as
    Markdown by bam_core.reporting.markdown, so the two cannot disagree."""
    makers = {"table1": lambda: table1(r, sizes), "table3": lambda: table3(r),
              "table4": lambda: table4(r), "table5": lambda: table5(r),
              "extensions": lambda: table1(r, None, "extensions")}
    out = {}
    for name, make in makers.items():
        if name in r.settings.tables:
            notes = (r.stats[name][1] + (size_notes(sizes) if name == "table1" else [])
                     + (table4_notes(r) if name == "table4" else []))
            out[name] = (make(), notes)
    return out


def build(r: Report, sizes: dict[str, dict]) -> dict[str, str]:
    """table name -> LaTeX, for the tables in the settings."""
    out = {name: render(cells, glue_or_not(r, CAPTIONS[name]), f"tab:{name}", notes)
           for name, (cells, notes) in frames(r, sizes).items()}
    out["paper_vs_run"] = paper_vs_run(r)
    return out


def read_report(scores: str | Path, stats_dir: str | Path, settings_path: str | Path) -> Report:
    """The Report of a results folder's scores, stats and settings."""
    settings = load(settings_path)
    stats = {}
    for name in settings.tables:
        path = Path(stats_dir) / f"{name}.parquet"
        if not path.exists():
            raise BamError(f"{path}: not found (run `bam stats {name}` first)")
        stats[name] = read_stats(path)
    return Report(read_scores(scores), stats, settings)


def document(texts: dict[str, str], left_out: dict[str, str] | None = None) -> str:
    """A standalone article embedding every table (compiles from any directory), and a line on the tables
    the config leaves out."""
    body = "\n".join(texts.values())
    if left_out:
        body += "\n" + latex_escape(left_out_note(left_out)) + "\n"
    return f"{PREAMBLE}\\begin{{document}}\n{body}\n\\end{{document}}\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bam tables", description=__doc__.splitlines()[0])
    parser.add_argument("--scores", required=True)
    parser.add_argument("--stats-dir", required=True)
    parser.add_argument("--settings", required=True)
    parser.add_argument("--data-dir", required=True, help="results/data: Table 1's |D| row from train.parquet")
    parser.add_argument("--out-dir", required=True)
    args = parser.parse_args(argv)
    report = read_report(args.scores, args.stats_dir, args.settings)
    sizes = task_sizes(args.data_dir, report.settings.tasks) if "table1" in report.settings.tables else {}
    texts = build(report, sizes)
    for name, text in texts.items():
        write_text(text, Path(args.out_dir) / f"{name}.tex")
    write_text(document(texts, report.settings.left_out), Path(args.out_dir) / "all_tables.tex")
    write_json(sizes, Path(args.out_dir) / SIZES_FILE)
    log.info("wrote %s, all_tables.tex and %s to %s", ", ".join(texts), SIZES_FILE, args.out_dir)
    return 0
