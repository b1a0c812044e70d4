"""`bam markdown --results results --out results/tables/tables.md`: any results folder's tables as Markdown.

    bam markdown --results studies/glue-minilm --page studies/glue-minilm/RESULTS.md          # refresh a page
    bam markdown --results studies/glue-minilm --page studies/glue-minilm/RESULTS.md --check  # is it current?

Reads what the workflow leaves in a results folder: scores.parquet, stats/{table}.parquet,
report/stats_settings.json, tables/train_sizes.json and (when there) tables/cost.parquet. The cells are the
LaTeX tables' own (bam_core.reporting.tables builds them once), converted, so the two never disagree; the
paper's numbers stand beside the run's, and a table counts the seeds behind every median.

A page (a study's RESULTS.md) keeps its hand-written text; only the part between the `generated` markers is
rewritten, so a test can regenerate that part from the committed files and compare it with the page.
No path appears in the output: the same files render the same Markdown wherever they are.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd

from bam_core.errors import BamError
from bam_core.io import write_text
from bam_core.reporting import tables
from bam_core.reporting.stats import read_scores
from bam_core.reporting.train_sizes import SIZES_FILE, read_sizes

BEGIN = "<!-- generated: begin (bam markdown; edits here are overwritten) -->"
END = "<!-- generated: end -->"
_STARS = re.compile(r"\$\^\{(\*+)\}\$")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_|])")


def escape(text: str) -> str:
    """Plain text as Markdown that shows it verbatim (stars and bars would otherwise format or split cells)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def from_latex(cell: str) -> str:
    """A LaTeX cell of bam_core.reporting.tables as plain text: `78.9$^{**}$` -> `78.9**`, `$\\lambda$` -> `λ`."""
    return tables.latex_unescape(_STARS.sub(r"\1", str(cell)))


def pipe_table(cells: pd.DataFrame) -> str:
    """A GitHub pipe table: the index as the first column(s), text left-aligned, the rest right-aligned.

    A MultiIndex becomes one column per level, a repeated outer label left blank (as LaTeX's multirow).
    Cells are plain text; padding keeps the source readable.
    """
    levels = cells.index.nlevels
    rows, previous = [], None
    for key, values in zip(cells.index, cells.itertuples(index=False)):
        key = key if isinstance(key, tuple) else (key,)
        shown = ("" if levels > 1 and key[0] == previous else key[0], *key[1:])
        previous = key[0]
        rows.append([escape(k) for k in shown] + [escape(v) for v in values])
    header = [""] * levels + [escape(c) for c in cells.columns]
    widths = [max(3, len(header[i]), *(len(r[i]) for r in rows)) for i in range(len(header))]
    left = [i < levels or not _numeric([r[i] for r in rows]) for i in range(len(header))]

    def line(values):
        return "| " + " | ".join(v.ljust(w) if lft else v.rjust(w) for v, w, lft in zip(values, widths, left)) + " |"

    rule = "| " + " | ".join(("-" * w) if lft else ("-" * (w - 1) + ":") for w, lft in zip(widths, left)) + " |"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def _numeric(column: list[str]) -> bool:
    """A column of numbers (signed, starred, `--` for none) is right-aligned, as in the LaTeX tables."""
    return all(v == "" or v[0] in "+-0123456789" for v in column)


def section(title: str, text: str, cells: pd.DataFrame, notes: list[str] = ()) -> str:
    """A titled table; a table the settings leave empty (e.g. Table 3 without fine-tuned variants) says so."""
    table = pipe_table(cells.map(from_latex)) if len(cells) else "No rows: this run's settings name no variants for it."
    parts = [f"### {title}", escape(text), table]
    if notes:
        parts.append("Notes: " + "; ".join(escape(n) for n in notes) + ".")
    return "\n\n".join(parts)


def seed_counts(r: tables.Report, scores: pd.DataFrame) -> pd.DataFrame:
    """Seeds behind each median: non-NaN scores per (variant, task), for every reported variant with scores."""
    counts = scores.dropna(subset=["score"]).groupby(["variant", "task"])["seed"].nunique()
    variants = [v for v in r.settings.labels if v in scores["variant"].unique()]
    cells = [[str(counts[(v, t)]) if (v, t) in counts.index else "--" for t in r.columns] for v in variants]
    return pd.DataFrame(cells, index=[r.label(v) for v in variants], columns=r.columns)


def seed_averages(r: tables.Report, scores: pd.DataFrame) -> pd.DataFrame:
    """Each seed's Avg for every reported variant scored on all of the run's tasks (a Table 5 model trained on
    fewer has an Avg over other tasks): whether one model beats another seed by seed, which medians hide."""
    scored = scores.dropna(subset=["score"])
    tasks = set(r.settings.tasks)
    variants = [v for v in r.settings.labels if tasks <= set(scored.loc[scored["variant"] == v, "task"])]
    avg = scored[scored["task"] == "Avg"].pivot(index="variant", columns="seed", values="score")
    seeds = sorted(avg.columns)
    cells = [[tables.number(avg.at[v, s]) for s in seeds] for v in variants]
    return pd.DataFrame(cells, index=[r.label(v) for v in variants], columns=[f"Seed {s}" for s in seeds])


def cost_cells(r: tables.Report, cost: pd.DataFrame) -> pd.DataFrame:
    shown = pd.DataFrame({"Runs": cost["runs"].astype(str), "Wall hours": cost["wall_hours"].map("{:.2f}".format),
                          "GPU hours": cost["gpu_hours"].map("{:.2f}".format),
                          "Median examples/s": cost["median_examples_per_second"].map("{:.1f}".format)})
    shown.index = [r.label(v) for v in cost["variant"]]
    return shown


TITLES = {"table1": "Table 1: GLUE dev medians", "table3": "Table 3: single-task fine-tuning after multi-task",
          "table4": "Table 4: ablations", "table5": "Table 5: which tasks help {task}"}


def render(results: str | Path) -> str:
    """The Markdown of a results folder's tables (no path in it)."""
    results = Path(results)
    r = tables.read_report(results / "scores.parquet", results / "stats", results / "report" / "stats_settings.json")
    sizes = read_sizes(results / "tables" / SIZES_FILE) if "table1" in r.settings.tables else {}
    levels = " / ".join(f"{x:g}" for x in r.settings.statistics.levels)
    legend = (f"Medians over seeds of dev scores (x100). Stars: Holm-adjusted p below {levels} "
              "(one star per level), as in the LaTeX tables.")
    out = [legend]
    for name, (cells, notes) in tables.frames(r, sizes).items():
        title = tables.glue_or_not(r, TITLES.get(name, name).format(**r.settings.tables[name]))
        out.append(section(title, tables.glue_or_not(r, tables.CAPTIONS.get(name, "")), cells, notes))
    for cells, caption, _ in tables.paper_vs_run_parts(r):
        out.append(section(f"The paper beside this run: {caption.split(':')[0]}", caption, cells,
                           tables.paper_vs_run_notes(r)))
    scores = read_scores(results / "scores.parquet")
    out.append(section("Seeds per median", "Seeds with a score behind each median (NaN scores left out).",
                       seed_counts(r, scores)))
    out.append(section("Avg by seed", "Each seed's Avg, the mean of its task scores, for the models trained on "
                       "all of the run's tasks.", seed_averages(r, scores)))
    cost_path = results / "tables" / "cost.parquet"
    if cost_path.exists():
        out.append(section("Training cost", "Runs, wall hours summed over runs (GPU hours: runs on CUDA) and the "
                           "median training throughput per variant.", cost_cells(r, pd.read_parquet(cost_path))))
    return "\n\n".join(out) + "\n"


def generated_part(page: str, where: str = "page") -> str:
    """The text between the page's markers, stripped."""
    begins, ends = page.count(BEGIN), page.count(END)
    if begins != 1 or ends != 1 or page.index(BEGIN) > page.index(END):
        raise BamError(f"{where}: needs one `{BEGIN}` line followed by one `{END}` line "
                       f"(found {begins} and {ends})")
    return page[page.index(BEGIN) + len(BEGIN): page.index(END)].strip()


def splice(page: str, generated: str, where: str = "page") -> str:
    """The page with its generated part replaced; the hand-written text around it untouched."""
    generated_part(page, where)  # checks the markers
    head, tail = page[: page.index(BEGIN) + len(BEGIN)], page[page.index(END):]
    return f"{head}\n\n{generated.strip()}\n\n{tail}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bam markdown", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--results", required=True, help="a results folder (the workflow's results/ or a study's)")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", help="write the tables as a Markdown file")
    target.add_argument("--page", help="rewrite the generated part of this Markdown page")
    parser.add_argument("--check", action="store_true", help="with --page: fail if the page is not current")
    args = parser.parse_args(argv)
    generated = render(args.results)
    if args.out:
        write_text(generated, args.out)
        return 0
    page_path = Path(args.page)
    if not page_path.exists():
        raise BamError(f"{page_path}: page not found")
    page = page_path.read_text(encoding="utf-8")
    if args.check:
        if generated_part(page, str(page_path)) != generated.strip():
            raise BamError(f"{page_path}: generated tables differ from {args.results}'s files; "
                           f"rerun `bam markdown --results {args.results} --page {page_path}`")
        return 0
    write_text(splice(page, generated, str(page_path)), page_path)
    return 0

