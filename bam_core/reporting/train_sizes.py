"""Table 1's |D| row: the size of each training set actually trained on.

Read from the prepared train parquet's footer (row count and metadata, no data read) and kept beside the
tables as train_sizes.json, so a results folder committed without its data (a study) still renders.
A task capped by data.max_train_examples shows "8.0k of 67k", with a note giving the exact counts and seed:
the cell alone tells a reader that this run saw less data than the paper's. A GLUE source that holds fewer
rows than GLUE's official split (a random subset of MNLI's training set) adds "(of 393k)" to the cell and a
note, as does a dev set smaller than GLUE's; a test split the source lacked is named in a note.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from bam_core.data.splits import ABSENT_KEY, subsample_record
from bam_core.data.tasks import GLUE_SIZES
from bam_core.errors import BamError
from bam_core.io import parquet_metadata, read_json

SIZES_FILE = "train_sizes.json"


def size_label(n: int) -> str:
    """A train-set size as the paper prints it: 2490 -> 2.5k, 67349 -> 67k."""
    if n < 1000:
        return str(n)
    return f"{n / 1000:.1f}k" if n < 10_000 else f"{round(n / 1000)}k"


def task_sizes(data_dir: str | Path, tasks) -> dict[str, dict]:
    """|D| per task from the train parquet's footer (no data read): {"rows": n} for a whole training set,
    plus "of" (the source's size) and "seed" for a subsample drawn by data.max_train_examples."""
    sizes = {}
    for task in tasks:
        path = Path(data_dir) / task / "train.parquet"
        if not path.exists():
            raise BamError(f"{path}: not found (needed for Table 1's |D| row)")
        rows, metadata = pq.read_metadata(path).num_rows, parquet_metadata(path)
        sizes[task] = subsample_record(metadata) or {"rows": rows}
        if sizes[task]["rows"] != rows:
            raise BamError(f"{path}: {rows} rows but its bam.subsample metadata says {sizes[task]['rows']}")
        sizes[task].update(source_shortfall(Path(data_dir) / task, task, sizes[task].get("of", rows), metadata))
    return sizes


def source_shortfall(task_dir: Path, task: str, source_rows: int, metadata: dict[str, str]) -> dict:
    """What a real GLUE source lacks against GLUE's official splits: {"official": train size} when its
    training set is a subset, {"dev": {"rows", "official"}} when its dev set is, {"test_absent": True}."""
    found = {}
    if (task_dir / "test.parquet").exists() and parquet_metadata(task_dir / "test.parquet").get(ABSENT_KEY):
        found["test_absent"] = True
    if metadata.get("bam.source", "").startswith("synthetic") or task not in GLUE_SIZES:
        return found
    train, dev = GLUE_SIZES[task]
    if source_rows < train:
        found["official"] = train
    dev_path = task_dir / "dev.parquet"
    if dev_path.exists() and (dev_rows := pq.read_metadata(dev_path).num_rows) < dev:
        found["dev"] = {"rows": dev_rows, "official": dev}
    return found


def size_cell(size: dict) -> str:
    """The |D| cell: the size trained on, and of how many for a subsample ("8.0k of 67k")."""
    label = size_label(size["rows"])
    label = f"{label} of {size_label(size['of'])}" if "of" in size else label
    return f"{label} (of {size_label(size['official'])})" if "official" in size else label


def size_notes(sizes: dict[str, dict]) -> list[str]:
    """The exact counts and seed of every subsample, which the cells round away, then what the data source
    holds less of than GLUE: training and dev subsets, test files it lacks."""
    notes = [f"{task} trained on a seeded subsample of {s['rows']:,} of its {s['of']:,} training examples "
             f"(data.max_train_examples, seed {s['seed']})" for task, s in sizes.items() if "of" in s]
    notes += [f"{task}'s training file is a subset of {s.get('of', s['rows']):,} of GLUE's {s['official']:,} "
              "training examples, before any cap" for task, s in sizes.items() if "official" in s]
    notes += [f"{task}'s dev score is on {s['dev']['rows']:,} of GLUE's {s['dev']['official']:,} dev examples "
              "(a subset in the data source)" for task, s in sizes.items() if "dev" in s]
    absent = [task for task, s in sizes.items() if s.get("test_absent")]
    if absent:
        notes.append(f"No test file in the data source for {', '.join(absent)}: no test predictions for "
                     f"{'it' if len(absent) == 1 else 'them'}")
    return notes


def read_sizes(path: str | Path) -> dict[str, dict]:
    """The train_sizes.json `bam tables` writes beside the tables (so a results folder without data renders)."""
    try:
        return read_json(path)
    except FileNotFoundError:
        raise BamError(f"{path}: not found (written by `bam tables`)") from None
