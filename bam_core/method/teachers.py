"""Teacher logits: merge runs' logits.parquet into one teacher file, and check it against a student's data.

    bam teacher-logits --out results/teachers/{variant}/{seeds}/logits.parquet --member RUN/logits.parquet...
                       [--member RUN/logits.parquet... (one per seed of an ensemble teacher)]

A teacher is just runs. Every run writes logits.parquet over its dev split, and over its train split
when it teaches (spec.predict_train), with the fingerprints of the tokens it read. Columns:
  task string, split string, idx int64, logits list<float32> (class logits; regression: the one output),
  swapped bool (true: the prediction on the pair with its sentences swapped, [CLS] b [SEP] a [SEP], for
  MRPC and STS-B train rows where a student doubles them with `double_unordered`; the reference's teacher
  predicts on each swapped copy itself).
Schema metadata: bam.fingerprints {task: {split: fingerprint}}, bam.runs [run dirs], and for an ensemble
bam.ensemble [[run logits files of each member]].

One `--member` is one teacher run set (a Single teacher: one run per task). Several members make an
ensemble teacher: the mean of the members' predicted probabilities (classification, stored as the log of
the mean, so the student's softmax of the stored logits is exactly that mean) or of their predictions
(regression). A student refuses, before training, logits computed on other data or not covering its examples.
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bam_core.data.tasks import get_task
from bam_core.errors import BamError
from bam_core.io import parquet_metadata, write_parquet

if TYPE_CHECKING:  # batches imports torch, which `bam teacher-logits` (merging parquet files) does not need
    from bam_core.method.batches import TaskData

log = logging.getLogger("bam.teachers")
SCHEMA = pa.schema([("task", pa.string()), ("split", pa.string()), ("idx", pa.int64()),
                    ("logits", pa.list_(pa.float32())), ("swapped", pa.bool_())])


def logits_table(rows: list[tuple]) -> pa.Table:
    """[(task, split, idx (n,), outputs (n, k)[, swapped])] -> the logits table (swapped defaults to False)."""
    tables = []
    for task, split, idx, outputs, *swapped in rows:
        outputs = np.asarray(outputs, dtype=np.float32).reshape(len(idx), -1)
        values = pa.array(outputs.reshape(-1), pa.float32())
        offsets = pa.array(np.arange(len(idx) + 1, dtype=np.int32) * outputs.shape[1])
        tables.append(pa.table({
            "task": pa.array([task] * len(idx), pa.string()),
            "split": pa.array([split] * len(idx), pa.string()),
            "idx": pa.array(idx, pa.int64()),
            "logits": pa.ListArray.from_arrays(offsets, values),
            "swapped": pa.array([bool(swapped and swapped[0])] * len(idx), pa.bool_()),
        }, schema=SCHEMA))
    return pa.concat_tables(tables) if tables else SCHEMA.empty_table()


def logits_metadata(fingerprints: dict, runs: list[str]) -> dict[str, str]:
    return {"bam.fingerprints": json.dumps(fingerprints, sort_keys=True), "bam.runs": json.dumps(runs)}


def swapped_pairs(data: TaskData) -> TaskData:
    """The training split with every pair's sentences swapped: what a doubled copy shows the student."""
    from bam_core.method.batches import double_unordered

    doubled, n = double_unordered(replace(data, teacher=None)), len(data)
    return replace(doubled, idx=doubled.idx[n:], starts=doubled.starts[n:], lengths=doubled.lengths[n:],
                   labels=doubled.labels[n:])


# --- merging -----------------------------------------------------------------------------------------

def _read_member(paths: list[str]) -> tuple[pa.Table, dict, list[str], dict[str, str]]:
    """One teacher's runs concatenated: (table, fingerprints, runs, {task: file}); a task twice is an error."""
    tables, fingerprints, runs, owner = [], {}, [], {}
    for path in paths:
        try:
            table, meta = pq.read_table(path), parquet_metadata(path)
        except FileNotFoundError:
            raise BamError(f"{path}: logits file not found") from None
        if "bam.fingerprints" not in meta or "swapped" not in table.column_names:
            raise BamError(f"{path}: not a run's logits.parquet (no bam.fingerprints metadata or swapped column)")
        for task in pc.unique(table.column("task")).to_pylist():
            if task in owner:
                raise BamError(f"task {task} appears in two teacher runs: {owner[task]} and {path}")
            owner[task] = path
        fingerprints.update(json.loads(meta["bam.fingerprints"]))
        runs += json.loads(meta.get("bam.runs", "[]"))
        tables.append(table.select(SCHEMA.names).cast(SCHEMA))
    return pa.concat_tables(tables), fingerprints, runs, owner


def _blocks(table: pa.Table) -> dict[tuple[str, str, bool], tuple[np.ndarray, np.ndarray]]:
    """(task, split, swapped) -> (idx sorted (n,), outputs (n, k) float64) of one member."""
    blocks = {}
    keys = table.group_by(["task", "split", "swapped"]).aggregate([]).to_pylist()
    for task, split, swapped in sorted((k["task"], k["split"], k["swapped"]) for k in keys):
        rows = table.filter(pc.and_(pc.and_(pc.equal(table["task"], task), pc.equal(table["split"], split)),
                                    pc.equal(table["swapped"], swapped)))
        idx = rows.column("idx").to_numpy()
        values = pc.list_flatten(rows.column("logits").combine_chunks()).to_numpy().reshape(len(idx), -1)
        order = np.argsort(idx, kind="stable")
        blocks[(task, split, swapped)] = (idx[order], values[order].astype(np.float64))
    return blocks


def ensemble_mean(task: str, outputs: list[np.ndarray]) -> np.ndarray:
    """The members' (n, k) outputs -> the ensemble's: log of the mean softmax probabilities for a
    classification task (softmax of the result = that mean), the mean prediction for regression."""
    stacked = np.stack(outputs)  # (members, n, k)
    if get_task(task).is_regression:
        return stacked.mean(axis=0)
    shifted = stacked - stacked.max(axis=-1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)
    return np.log(probs.mean(axis=0))


def merge_logits(members: list[list[str]], out: str) -> None:
    """One teacher file from one member (its runs concatenated) or several (their ensemble mean)."""
    read = [_read_member(paths) for paths in members]
    table, fingerprints, runs, owner = read[0]
    metadata = logits_metadata(fingerprints, [r for m in read for r in m[2]])
    if len(read) > 1:
        blocks = [_blocks(m[0]) for m in read]
        for (_, fps, _, own), blk in zip(read[1:], blocks[1:]):
            for task in sorted(set(owner) | set(own)):
                where = f"teacher runs {owner.get(task, members[0])} and {own.get(task, '(none)')}"
                if fps.get(task) != fingerprints.get(task):
                    raise BamError(f"task {task}: {where} were computed on different data (fingerprints differ)")
            for key in sorted(set(blocks[0]) | set(blk)):
                first, other = blocks[0].get(key), blk.get(key)
                if first is None or other is None or not np.array_equal(first[0], other[0]):
                    task, split, swapped = key
                    raise BamError(f"task {task}: teacher runs {owner.get(task, '(none)')} and "
                                   f"{own.get(task, '(none)')} cover different idx sets "
                                   f"({split}{', swapped' if swapped else ''})")
        rows = []
        for (task, split, swapped), (idx, _) in blocks[0].items():
            mean = ensemble_mean(task, [b[(task, split, swapped)][1] for b in blocks])
            rows.append((task, split, idx, mean, swapped))
        table = logits_table(rows)
        metadata["bam.ensemble"] = json.dumps(members)
    write_parquet(table, out, metadata)
    log.info("wrote %s: %d tasks, %d member(s)", out, len(owner), len(members))


# --- a student's side ----------------------------------------------------------------------------------

def _aligned(rows: pa.Table, part: TaskData, what: str) -> np.ndarray:
    """The rows' outputs in the order of part.idx (n, outputs) float32; BamError on any mismatch."""
    name = part.task.name
    logits = rows.column("logits").combine_chunks()
    widths = np.unique(pc.list_value_length(logits).to_numpy())
    if len(widths) != 1 or widths[0] != part.task.num_outputs:
        raise BamError(f"task {name}: teacher has {widths.max()} classes, task has {part.task.num_outputs}")
    idx = rows.column("idx").to_numpy()
    if len(np.unique(idx)) != len(idx):
        raise BamError(f"task {name}: teacher logits repeat a {what} idx")
    missing = np.setdiff1d(part.idx, idx).size
    if missing:
        raise BamError(f"task {name}: {missing} {what} idx missing from teacher logits")
    extra = np.setdiff1d(idx, part.idx).size
    if extra:
        raise BamError(f"task {name}: {extra} {what} idx in teacher logits not in the data")
    values = pc.list_flatten(logits).to_numpy().reshape(len(idx), -1).astype(np.float32)
    order = np.argsort(idx)
    return values[order][np.searchsorted(idx[order], part.idx)]


def attach_teacher(path: str, parts: list, swapped_tasks=()) -> None:
    """Set `part.teacher` (n, outputs) for each train TaskData, aligned by idx, and `part.teacher_swapped`
    for the tasks in swapped_tasks (the student doubles them); BamError on any mismatch."""
    try:
        table, meta = pq.read_table(path), parquet_metadata(path)
    except FileNotFoundError:
        raise BamError(f"teacher logits {path} not found") from None
    if "swapped" not in table.column_names:
        raise BamError(f"{path}: no swapped column (teacher logits of an older format: rerun bam teacher-logits)")
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
        swapped = rows.column("swapped").to_numpy(zero_copy_only=False)
        part.teacher = _aligned(rows.filter(pa.array(~swapped)), part, "train")
        if name in swapped_tasks:
            if not swapped.any():
                raise BamError(f"task {name}: teacher logits have no predictions on the swapped pairs, "
                               "which the student trains on (double_unordered)")
            part.teacher_swapped = _aligned(rows.filter(pa.array(swapped)), part, "swapped train")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bam teacher-logits", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="merged teacher logits parquet")
    parser.add_argument("--member", nargs="+", action="append", required=True,
                        help="one teacher's runs' logits.parquet files; repeat for an ensemble (its mean)")
    args = parser.parse_args(argv)
    merge_logits(args.member, args.out)
    return 0
