"""`bam prepare`: write one task's train/dev/test parquet from one of three GLUE sources, or a declared task's.

    bam prepare MNLI --out-dir results/data/MNLI --source synthetic --synthetic-seed 0 --synthetic-scale 1.0 \
        --synthetic-label-noise 0.1 --synthetic-sharing 1.0
    bam prepare RTE --out-dir results/data/RTE --source glue_tsv --glue-dir ../shared/glue
    bam prepare RTE --out-dir results/data/RTE --source hub --hub nyu-mll/glue
    bam prepare SST-2 --out-dir results/data/SST-2 --source glue_tsv --glue-dir ../shared/glue --max-train-examples 8000
    BAM_TASKS="$(bam custom-tasks workflow/configs/own-tasks.yaml)" \
        bam prepare Polarity --out-dir results/data/Polarity --source declared

--source declared reads a task declared in the config's custom_tasks (bam_core.data.custom_tasks: its files
or hub dataset), and only such a task; the GLUE sources read only GLUE's.

--max-train-examples trains on a seeded subsample of the training split (a compute budget's cut); the draw
is recorded in train.parquet's metadata (bam.subsample) so that tables report the size actually trained on.

All splits are built in memory first, then written together (see data.write_splits): a failure
anywhere leaves no split file that looks complete. A test split the source lacks (a GLUE directory without
MNLI's test files) is written empty with bam.absent in its metadata: nothing predicts it, and the tables
and the submission's README name it.
"""

from __future__ import annotations

import argparse
import logging

import pyarrow as pa

from bam_core.data.splits import ABSENT_KEY, clear_splits, make_split, split_metadata, subsample, write_splits
from bam_core.data.tasks import SPLITS, get_task
from bam_core.errors import BamError

log = logging.getLogger(__name__)
SOURCES = ("synthetic", "glue_tsv", "hub", "declared")


def load_task(task_name: str, source: str, glue_dir=None, hub: str = "nyu-mll/glue",
              synthetic_seed: int = 0, synthetic_scale: float = 1.0, synthetic_label_noise: float = 0.1,
              synthetic_sharing: float = 1.0) -> tuple[dict[str, pa.Table], list[str]]:
    """(train/dev/test tables of one task from `source`, labels in the canonical order of bam_core.data.tasks;
    the splits the task has but the source lacks).

    A split the task does not have (MNLI-mm's train, AX's train and dev) or the source lacks (a test file
    not downloaded) is an empty table, so every task has the same three files.
    """
    task = get_task(task_name)
    tables = load_source(task_name, source, glue_dir, hub, synthetic_seed, synthetic_scale, synthetic_label_noise,
                         synthetic_sharing)
    absent = [s for s in task.splits if s not in tables]
    empty = {s: make_split(task, [], [], where=f"{task.name} {s}", allow_empty=True) for s in SPLITS if s not in tables}
    return {s: tables.get(s, empty.get(s)) for s in SPLITS}, absent


def load_source(task_name: str, source: str, glue_dir, hub: str, synthetic_seed: int, synthetic_scale: float,
                synthetic_label_noise: float, synthetic_sharing: float) -> dict[str, pa.Table]:
    task = get_task(task_name)
    if task.glue == (source == "declared"):
        raise BamError(f"{task.name} is declared under custom_tasks: prepare it with --source declared" if not task.glue
                       else f"{task.name} is a GLUE task: --source declared reads only tasks under custom_tasks")
    if source == "declared":
        from bam_core.data import task_files
        from bam_core.data.custom_tasks import declared_tasks

        return task_files.load(declared_tasks()[task.name])
    if source == "synthetic":
        from bam_core.data import synthetic

        return synthetic.load(task, synthetic_seed, synthetic_scale, synthetic_label_noise, synthetic_sharing)
    if source == "glue_tsv":
        if not glue_dir:
            raise BamError("--source glue_tsv needs --glue-dir DIR")
        from bam_core.data import glue_tsv

        return glue_tsv.load(task, glue_dir)
    if source == "hub":
        from bam_core.data import glue_hub  # imports datasets: only when asked for

        return glue_hub.load(task, hub)
    raise BamError(f"unknown source {source!r}; known sources: {', '.join(SOURCES)}")


def source_name(source: str, args) -> str:
    """What bam.source records: enough to tell two preparations apart."""
    if source == "synthetic":
        return (f"synthetic(seed={args.synthetic_seed}, scale={args.synthetic_scale}, "
                f"label_noise={args.synthetic_label_noise}, sharing={args.synthetic_sharing})")
    if source == "glue_tsv":
        return f"glue_tsv({args.glue_dir})"
    if source == "declared":  # not its files: the same rows in another file type give the same bytes
        return "declared"
    return f"hub({args.hub})"


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bam prepare", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("task", help="GLUE task name (CoLA SST-2 MRPC STS-B QQP MNLI QNLI RTE WNLI MNLI-mm AX) "
                                "or a task declared in BAM_TASKS")
    p.add_argument("--out-dir", required=True, help="directory for train/dev/test.parquet")
    p.add_argument("--source", choices=SOURCES, default="synthetic")
    p.add_argument("--glue-dir", help="GLUE TSV directory (download_glue_data.py layout), for --source glue_tsv")
    p.add_argument("--hub", default="nyu-mll/glue", help="hub dataset name or local mirror, for --source hub")
    p.add_argument("--synthetic-seed", type=int, default=0)
    p.add_argument("--synthetic-scale", type=float, default=1.0, help="multiplies every split size")
    p.add_argument("--max-train-examples", type=int, help="train on a seeded subsample of at most this many rows")
    p.add_argument("--subsample-seed", type=int, default=0, help="the subsample's random seed")
    p.add_argument("--synthetic-label-noise", type=float, default=0.1,
                   help="fraction of classification training labels replaced (regression: noise sd 2.5 x this)")
    p.add_argument("--synthetic-sharing", type=float, default=1.0,
                   help="fraction of a small task's examples that follow the rule it shares with a large one")
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    task = get_task(args.task)
    clear_splits(args.out_dir)
    tables, absent = load_task(task.name, args.source, args.glue_dir, args.hub, args.synthetic_seed,
                               args.synthetic_scale, args.synthetic_label_noise, args.synthetic_sharing)
    for split in absent:
        log.warning("%s %s: the source has no such file; recorded as absent (nothing will predict it)", task.name, split)
    drawn = {}
    if args.max_train_examples is not None:
        if args.max_train_examples < 1:
            raise BamError(f"--max-train-examples must be at least 1, got {args.max_train_examples}")
        tables["train"], drawn = subsample(tables["train"], args.max_train_examples, args.subsample_seed)
    source = source_name(args.source, args)
    metadata = {s: split_metadata(task, s, source, t) | (drawn if s == "train" else {})
                | ({ABSENT_KEY: "true"} if s in absent else {}) for s, t in tables.items()}
    paths = write_splits(args.out_dir, {s: (t, metadata[s]) for s, t in tables.items()})
    for path, (split, table) in zip(paths, tables.items()):
        log.info("%s %s: %d rows -> %s", task.name, split, table.num_rows, path)
    return 0
