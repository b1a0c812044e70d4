"""Teacher logits: merge runs' logits.parquet into one teacher file, and check it against a student's data.

    bam teacher-logits --out results/teachers/{variant}/{seed}/logits.parquet RUN/logits.parquet...

A teacher is just runs: every run writes logits.parquet (task, split, idx, logits) over its train and
dev splits, with the fingerprints of the tokens it read. A Single teacher merges one run per task.
A student refuses, before training, logits computed on other data or not covering its examples.
"""

from __future__ import annotations

import argparse
import json
import logging

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bam_core.errors import BamError
from bam_core.io import parquet_metadata, write_parquet

log = logging.getLogger("bam.teachers")
SCHEMA = pa.schema([("task", pa.string()), ("split", pa.string()), ("idx", pa.int64()),
                    ("logits", pa.list_(pa.float32()))])


def logits_table(rows: list[tuple[str, str, np.ndarray, np.ndarray]]) -> pa.Table:
    """[(task, split, idx (n,), outputs (n, k))] -> the logits table."""
    tables = []
    for task, split, idx, outputs in rows:
        outputs = np.asarray(outputs, dtype=np.float32).reshape(len(idx), -1)
        values = pa.array(outputs.reshape(-1), pa.float32())
        offsets = pa.array(np.arange(len(idx) + 1, dtype=np.int32) * outputs.shape[1])
        tables.append(pa.table({
            "task": pa.array([task] * len(idx), pa.string()),
            "split": pa.array([split] * len(idx), pa.string()),
            "idx": pa.array(idx, pa.int64()),
            "logits": pa.ListArray.from_arrays(offsets, values),
        }, schema=SCHEMA))
    return pa.concat_tables(tables) if tables else SCHEMA.empty_table()


def logits_metadata(fingerprints: dict, runs: list[str]) -> dict[str, str]:
    return {"bam.fingerprints": json.dumps(fingerprints, sort_keys=True), "bam.runs": json.dumps(runs)}


def merge_logits(paths: list[str], out: str) -> None:
    """Concatenate runs' logits files; a task present in two of them is an error."""
    tables, fingerprints, runs, owner = [], {}, [], {}
    for path in paths:
        try:
            table, meta = pq.read_table(path), parquet_metadata(path)
        except FileNotFoundError:
            raise BamError(f"{path}: logits file not found") from None
        if "bam.fingerprints" not in meta:
            raise BamError(f"{path}: no bam.fingerprints metadata (not a run's logits.parquet)")
        for task in pc.unique(table.column("task")).to_pylist():
            if task in owner:
                raise BamError(f"task {task} appears in two teacher runs: {owner[task]} and {path}")
            owner[task] = path
        fingerprints.update(json.loads(meta["bam.fingerprints"]))
        runs += json.loads(meta.get("bam.runs", "[]"))
        tables.append(table.select(SCHEMA.names).cast(SCHEMA))
    write_parquet(pa.concat_tables(tables), out, logits_metadata(fingerprints, runs))
    log.info("wrote %s: %d tasks from %d files", out, len(owner), len(paths))


def attach_teacher(path: str, parts: list) -> None:
    """Set `part.teacher` (n, outputs) for each train TaskData, aligned by idx; BamError on any mismatch."""
    try:
        table, meta = pq.read_table(path), parquet_metadata(path)
    except FileNotFoundError:
        raise BamError(f"teacher logits {path} not found") from None
    fingerprints = json.loads(meta.get("bam.fingerprints", "{}"))
    table = table.filter(pc.equal(table.column("split"), "train"))
    for part in parts:
        name = part.task.name
        rows = table.filter(pc.equal(table.column("task"), name))
        if rows.num_rows == 0:
            raise BamError(f"task {name}: not in teacher logits {path}")
        teacher_fp = fingerprints.get(name, {}).get("train")
        if teacher_fp != part.fingerprint:
            raise BamError(f"task {name}: fingerprint differs (teacher computed on other data)")
        logits = rows.column("logits").combine_chunks()
        widths = np.unique(pc.list_value_length(logits).to_numpy())
        if len(widths) != 1 or widths[0] != part.task.num_outputs:
            raise BamError(f"task {name}: teacher has {widths.max()} classes, task has {part.task.num_outputs}")
        idx = rows.column("idx").to_numpy()
        if len(np.unique(idx)) != len(idx):
            raise BamError(f"task {name}: teacher logits repeat a train idx")
        missing = np.setdiff1d(part.idx, idx).size
        if missing:
            raise BamError(f"task {name}: {missing} train idx missing from teacher logits")
        extra = np.setdiff1d(idx, part.idx).size
        if extra:
            raise BamError(f"task {name}: {extra} train idx in teacher logits not in the data")
        values = logits.values.to_numpy().reshape(len(idx), -1).astype(np.float32)
        order = np.argsort(idx)
        part.teacher = values[order][np.searchsorted(idx[order], part.idx)]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bam teacher-logits", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="merged teacher logits parquet")
    parser.add_argument("logits", nargs="+", help="runs' logits.parquet files")
    args = parser.parse_args(argv)
    merge_logits(args.logits, args.out)
    return 0
