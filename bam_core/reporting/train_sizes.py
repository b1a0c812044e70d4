"""Table 1's |D| row: the size of each training set actually trained on.

Read from the prepared train parquet's footer (row count and metadata, no data read) and kept beside the
tables as train_sizes.json, so a results folder committed without its data (a study) still renders.
A task capped by data.max_train_examples shows "8.0k of 67k", with a note giving the exact counts and seed:
the cell alone tells a reader that this run saw less data than the paper's.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from bam_core.data.splits import subsample_record
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
        rows = pq.read_metadata(path).num_rows
        sizes[task] = subsample_record(parquet_metadata(path)) or {"rows": rows}
        if sizes[task]["rows"] != rows:
            raise BamError(f"{path}: {rows} rows but its bam.subsample metadata says {sizes[task]['rows']}")
    return sizes


def size_cell(size: dict) -> str:
    """The |D| cell: the size trained on, and of how many for a subsample ("8.0k of 67k")."""
    label = size_label(size["rows"])
    return f"{label} of {size_label(size['of'])}" if "of" in size else label


def size_notes(sizes: dict[str, dict]) -> list[str]:
    """One note per subsampled task: the exact counts and the seed, which the cell rounds away."""
    return [f"{task} trained on a seeded subsample of {s['rows']:,} of its {s['of']:,} training examples "
            f"(data.max_train_examples, seed {s['seed']})" for task, s in sizes.items() if "of" in s]


def read_sizes(path: str | Path) -> dict[str, dict]:
    """The train_sizes.json `bam tables` writes beside the tables (so a results folder without data renders)."""
    try:
        return read_json(path)
    except FileNotFoundError:
        raise BamError(f"{path}: not found (written by `bam tables`)") from None
