"""The prepared-data format every source writes: `{task}/{split}.parquet` with idx, text_a, text_b, label.

Every source (synthetic, glue_tsv, hub, and the files of a declared task) goes through `make_split`, so labels are checked and
mapped to the canonical order of bam_core.data.tasks in one place, and `write_splits`, so a task's three
files appear together or not at all. The fingerprint hashes the content, not the file bytes, so a
teacher's logits can be matched to the data they were computed on whatever wrote the parquet.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import ExitStack
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bam_core.data.tasks import SPLITS, Task, check_split
from bam_core.errors import BamError
from bam_core.io import atomic_output, parquet_metadata

def schema(task: Task) -> pa.Schema:
    label_type = pa.float64() if task.is_regression else pa.int64()
    return pa.schema([("idx", pa.int64()), ("text_a", pa.string()), ("text_b", pa.string()), ("label", label_type)])


def _row(i: int) -> str:
    return f"row {i}"


def number_or_nan(text) -> float:
    """A score written as text, NaN when it is not a number (so the range check names the row)."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def float32_precision(scores: np.ndarray) -> np.ndarray:
    """Scores rounded to float32 and read back through their shortest decimal form (3.8 stays 3.8, while
    2.111111111 becomes 2.1111112): the hub stores STS-B as float32, so every source agrees at that precision."""
    return scores.astype(np.float32).astype(str).astype(np.float64)


def encode_labels(task: Task, values, where: str, row_name: Callable[[int], str] = _row) -> pa.Array:
    """Map raw labels (strings from a TSV, ints or floats from the hub) to the task's canonical labels.

    Classification accepts a label's name or its index as text ("entailment", "1") or an int index;
    regression accepts numbers in the task's range (STS-B: [0, 5]). The first bad value raises BamError naming `where`, the row
    (`row_name(i)`, e.g. "line 12") and the value.
    """
    values = pa.array(values) if not isinstance(values, (pa.Array, pa.ChunkedArray)) else values
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    low, high = task.label_range
    allowed = f"{low:g}-{high:g}" if task.is_regression else ", ".join(f"{i}={n}" for i, n in enumerate(task.labels))

    def fail(i: int):
        raise BamError(
            f"{where}, {row_name(i)}: label {values[i].as_py()!r} is not one of {task.name}'s labels ({allowed})"
        )

    if task.is_regression:
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            raw = values.to_numpy(zero_copy_only=False)
            numbers = np.array([number_or_nan(x) for x in raw], dtype=np.float64)
        else:
            numbers = values.to_numpy(zero_copy_only=False).astype(np.float64)
        bad = ~((numbers >= low) & (numbers <= high))  # also catches nan
        if bad.any():
            fail(int(np.argmax(bad)))
        return pa.array(float32_precision(numbers), pa.float64())
    n = len(task.labels)
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        keys = list(task.labels) + [str(i) for i in range(n)]
        index = pc.index_in(values, value_set=pa.array(keys, values.type))
        if index.null_count:
            fail(int(np.argmax(index.is_null().to_numpy(zero_copy_only=False))))
        return pa.array(index.to_numpy(zero_copy_only=False) % n, pa.int64())
    numbers = values.to_numpy(zero_copy_only=False)  # ints with nulls come back as floats with nan
    bad = ~np.isin(numbers, np.arange(n))
    if bad.any():
        fail(int(np.argmax(bad)))
    return pa.array(numbers.astype(np.int64), pa.int64())


def _strings(values) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values.cast(pa.string())
    return pa.array(values, pa.string())


def make_split(task: Task, text_a, text_b=None, labels=None, *, where: str, row_name=_row,
               allow_empty: bool = False) -> pa.Table:
    """One split as an arrow table in the task's schema; idx is the row order. labels=None: unlabelled (test).
    allow_empty: for a split the task does not have (AX's dev), never for one read from a source."""
    text_a = _strings(text_a)
    n = len(text_a)
    if n == 0 and not allow_empty:  # an empty dev split would leave the task without a score, silently
        raise BamError(f"{where}: no rows")
    if task.pair:
        if text_b is None:
            raise BamError(f"{where}: {task.name} is a sentence-pair task but no second sentence was given")
        text_b = _strings(text_b)
    else:
        text_b = pa.nulls(n, pa.string())
    label = (
        pa.nulls(n, schema(task).field("label").type)
        if labels is None
        else encode_labels(task, labels, where, row_name)
    )
    missing = text_a.is_null().to_numpy(zero_copy_only=False)
    if task.pair:
        missing |= text_b.is_null().to_numpy(zero_copy_only=False)
    if missing.any():
        raise BamError(f"{where}, {row_name(int(np.argmax(missing)))}: text missing")
    idx = pa.array(np.arange(n, dtype=np.int64))
    return pa.Table.from_arrays([idx, text_a, text_b, label], schema=schema(task))


def _string_bytes(col: pa.Array) -> list:
    """Validity, offsets (from 0) and UTF-8 bytes of a string column: a layout-independent encoding."""
    col = col.cast(pa.string())
    valid = col.is_valid().to_numpy(zero_copy_only=False)
    filled = col.fill_null("")
    offsets = np.frombuffer(filled.buffers()[1], np.int32)[filled.offset : filled.offset + len(filled) + 1]
    data = filled.buffers()[2]
    body = b"" if data is None else memoryview(data)[offsets[0] : offsets[-1]]
    return [np.packbits(valid).tobytes(), (offsets - offsets[0]).astype("<i8").tobytes(), body]


def fingerprint(table: pa.Table) -> str:
    """sha256 of (idx, text_a, text_b, label): equal for equal content, whatever the chunking or file bytes."""
    digest = hashlib.sha256()
    digest.update(f"rows={table.num_rows};".encode())
    for name in ("idx", "text_a", "text_b", "label"):
        col = table.column(name).combine_chunks()
        digest.update(f"{name}:{col.type};".encode())
        if name in ("text_a", "text_b"):
            parts = _string_bytes(col)
        else:
            valid = col.is_valid().to_numpy(zero_copy_only=False)
            dtype = "<f8" if pa.types.is_floating(col.type) else "<i8"
            values = col.fill_null(0).to_numpy(zero_copy_only=False).astype(dtype)
            parts = [np.packbits(valid).tobytes(), values.tobytes()]
        for part in parts:
            digest.update(len(part).to_bytes(8, "little"))
            digest.update(part)
    return digest.hexdigest()


def split_metadata(task: Task, split: str, source: str, table: pa.Table) -> dict[str, str]:
    return {"bam.fingerprint": fingerprint(table), "bam.task": task.name, "bam.split": split, "bam.source": source}


SUBSAMPLE_KEY = "bam.subsample"
ABSENT_KEY = "bam.absent"  # on an empty split the task has but the source lacked (a test file not downloaded)


def subsample(table: pa.Table, max_examples: int, seed: int) -> tuple[pa.Table, dict[str, str]]:
    """At most `max_examples` rows drawn without replacement with `seed`, kept in source order with their
    source idx (so teacher logits and predictions still name source rows), and the metadata that records
    the draw; a split no larger than the cap comes back whole with no record."""
    if table.num_rows <= max_examples:
        return table, {}
    rows = np.sort(np.random.default_rng(seed).choice(table.num_rows, size=max_examples, replace=False))
    record = {"rows": max_examples, "of": table.num_rows, "seed": seed}
    return table.take(pa.array(rows)), {SUBSAMPLE_KEY: json.dumps(record, sort_keys=True)}


def subsample_record(metadata: dict[str, str]) -> dict | None:
    """{"rows", "of", "seed"} of a subsampled split's metadata, None for a whole split."""
    return json.loads(metadata[SUBSAMPLE_KEY]) if SUBSAMPLE_KEY in metadata else None


def split_path(directory, split: str) -> Path:
    return Path(directory) / f"{check_split(split)}.parquet"


def read_split(directory, split: str) -> pa.Table:
    """Read `{directory}/{split}.parquet` (schema metadata kept; see `parquet_metadata` for the dict)."""
    path = split_path(directory, split)
    if not path.exists():
        raise BamError(f"data file {path} not found (run `bam prepare`)")
    table = pq.read_table(path)
    missing = [c for c in ("idx", "text_a", "text_b", "label") if c not in table.column_names]
    if missing:
        raise BamError(f"{path}: columns {missing} missing (not a `bam prepare` output)")
    return table


def read_metadata(directory, split: str) -> dict[str, str]:
    return parquet_metadata(split_path(directory, split))


def clear_splits(out_dir) -> None:
    """Remove earlier outputs before a stage starts, so that a failure leaves none that look current."""
    for split in SPLITS:
        (Path(out_dir) / f"{split}.parquet").unlink(missing_ok=True)


def write_splits(out_dir, tables: dict[str, tuple[pa.Table, dict[str, str]]]) -> list[Path]:
    """Write `{out_dir}/{split}.parquet` for every split, all or nothing.

    Old outputs are removed first, every file is written to a temporary name, and only when all of them
    are written are they renamed into place: a failure leaves no file that looks complete.
    """
    out_dir = Path(out_dir)
    clear_splits(out_dir)
    targets = {split: out_dir / f"{split}.parquet" for split in tables}
    with ExitStack() as stack:
        for split, (table, metadata) in tables.items():
            tmp = stack.enter_context(atomic_output(targets[split]))
            merged = dict(table.schema.metadata or {})
            merged.update({k.encode(): v.encode() for k, v in metadata.items()})
            pq.write_table(table.replace_schema_metadata(merged), tmp)
    return list(targets.values())

