"""`bam <stage> ...`: one console command whose subcommands are the workflow's stages.

Each stage lives in its own module with a `main(argv)`; it is imported only when asked for, so
`bam collect` does not pay for importing torch. A BamError is printed as one line, no traceback.
"""

from __future__ import annotations

import importlib
import logging
import sys

from bam_core.errors import BamError

STAGES = {
    "prepare": ("bam_core.data.prepare", "write one task's train/dev/test parquet from a data source"),
    "custom-tasks": ("bam_core.data.custom_tasks", "print a config's custom_tasks as BAM_TASKS takes them (commands by hand)"),
    "demo-encoder": ("bam_core.data.demo_encoder", "train the demo WordPiece tokenizer and write its BertConfig"),
    "tokenize": ("bam_core.data.tokens", "tokenize one task's splits once for every training job"),
    "train": ("bam_core.method.train", "train one run (single- or multi-task) from a run spec JSON"),
    "calibrate": ("bam_core.method.calibrate", "time training steps and predictions of every training unit on this machine"),
    "teacher-logits": ("bam_core.method.teachers", "merge teacher runs' logits into one teacher file"),
    "choose-alpha": ("bam_core.experiment.alpha_choice", "pick Single's layer-wise decay per task by median dev score"),
    "select-single": ("bam_core.experiment.alpha_choice:select_main", "assemble Single's runs from the chosen grid runs"),
    "collect": ("bam_core.experiment.scores", "collect every run's metrics into scores.parquet"),
    "report-settings": ("bam_core.reporting.report_settings", "check and write the settings of statistics, tables and figures"),
    "stats": ("bam_core.reporting.stats", "bootstrap and Mann-Whitney tests with Holm correction for one table"),
    "tables": ("bam_core.reporting.tables", "render the paper's tables as LaTeX"),
    "markdown": ("bam_core.reporting.markdown", "a results folder's tables as Markdown (or a page's generated part)"),
    "figures": ("bam_core.reporting.figures", "seed distributions and training curves"),
    "submission": ("bam_core.reporting.submission", "GLUE leaderboard TSVs from the best-dev Single->Multi run"),
    "estimate": ("bam_core.reporting.estimate", "expected minutes per run and the plan's bill, from the calibration"),
    "submission-zip": ("bam_core.reporting.submission:zip_main", "the GLUE server's zip of a complete submission"),
    "cost": ("bam_core.reporting.cost", "runs, wall and GPU hours, throughput per variant"),
}


def usage() -> str:
    lines = ["usage: bam <stage> [options]", "", "stages:"]
    lines += [f"  {name:<15} {help_}" for name, (_, help_) in STAGES.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    stage, rest = argv[0], argv[1:]
    if stage not in STAGES:
        print(f"bam: unknown stage {stage!r}\n\n{usage()}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    module_name, _, func = STAGES[stage][0].partition(":")
    entry = getattr(importlib.import_module(module_name), func or "main")
    try:
        return int(entry(rest) or 0)
    except BamError as err:
        print(f"bam {stage}: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
