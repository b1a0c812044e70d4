"""The rows of a declared task (bam_core.data.custom_tasks): its files, read by `datasets`' local loaders
(csv, json, parquet; a TSV is the csv loader on tabs), or its hub dataset, as the GLUE hub source reads one.

    CSV      comma-separated, first line the header, quoting as RFC 4180
    TSV      tab-separated, first line the header, no quoting (as GLUE's TSVs: a field holds no tab or newline)
    JSON     JSON Lines (.jsonl or .json): one object per line, its keys the columns
    Parquet  its columns

Whatever the file type, the same rows give the same prepared data, byte for byte: text columns are read as
text, label values are matched to the declared ones by one spelling (custom_tasks.label_key), and regression
values are kept at float32 precision (as STS-B's from every source). A bad row is refused in one line naming
the task, the file and the row (rows count from 1, a header line not counted); nothing is written.

`check_files` is the start-up check (the Snakefile runs it before any job): every file exists and has the
declared columns, read from its header or schema only.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bam_core.data.custom_tasks import Declaration, file_format, label_key
from bam_core.data.splits import make_split
from bam_core.errors import BamError

QUOTE_NONE = 3  # csv.QUOTE_NONE, as pandas takes it
# keep_default_na=False: a text "NA" or "None" stays text, as it does in JSON (an empty cell is "", refused).
LOADERS = {"csv": ("csv", {"keep_default_na": False}),
           "tsv": ("csv", {"sep": "\t", "quoting": QUOTE_NONE, "keep_default_na": False}),
           "json": ("json", {}), "parquet": ("parquet", {})}


def columns_of(path: str) -> list[str]:
    """The column names of a file, from its header line or schema (no rows parsed)."""
    kind = file_format(path)
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            return pq.read_schema(path).names
        if kind in ("csv", "tsv"):
            import pyarrow.csv as pacsv

            parse = pacsv.ParseOptions(delimiter="\t", quote_char=False) if kind == "tsv" else pacsv.ParseOptions()
            with pacsv.open_csv(path, parse_options=parse) as reader:
                return reader.schema.names
        with open(path, encoding="utf-8") as f:
            first = next((line for line in f if line.strip()), "{}")
        row = json.loads(first)
        if not isinstance(row, dict):
            raise ValueError("the first line is not a JSON object")
        return list(row)
    except (OSError, ValueError, pa.ArrowException) as err:
        raise BamError(f"{path}: not readable as {kind.upper()} ({err})") from None


def check_files(d: Declaration) -> None:
    """Every declared file exists and has the text columns (and, but for test, the label column)."""
    for split, path in d.files.items():
        if not Path(path).is_file():
            raise BamError(f"custom_tasks.{d.name}.files.{split}: {path} not found")
        columns = columns_of(path)
        check_columns(d, columns, split, path)


def check_declared_files(declared: dict[str, Declaration]) -> None:
    """The start-up check of every declaration with files (a hub dataset's columns are checked when read)."""
    for d in declared.values():
        if d.hub is None:
            check_files(d)


def check_columns(d: Declaration, columns: list[str], split: str, where: str) -> None:
    needed = [("text", c) for c in d.text] + ([("label", d.label)] if split != "test" else [])
    for key, column in needed:
        if column not in columns:
            raise BamError(f"custom_tasks.{d.name}.{key}: column {column!r} not in {where} "
                           f"(columns: {', '.join(columns)})")


def read_file(path: str) -> pa.Table:
    """One file's rows through datasets' local loader for its type (cached by datasets, as any dataset)."""
    import datasets

    builder, options = LOADERS[file_format(path)]
    datasets.disable_progress_bars()  # a job's log holds its own lines, and an error stays one line
    try:
        ds = datasets.load_dataset(builder, data_files={"rows": str(path)}, split="rows", **options)
    except Exception as err:  # datasets raises many types (parser errors, schema mismatches)
        raise BamError(f"{path}: not readable as {file_format(path).upper()}: {type(err).__name__}: {err}") from None
    return ds.with_format("arrow")[:]


def read_hub(d: Declaration, split: str) -> tuple[pa.Table, str]:
    from bam_core.data.glue_hub import fetch

    hub = d.hub
    return fetch(hub["name"], hub["config"], hub["splits"][split]), f"hub {hub['name']} {hub['config']}/{hub['splits'][split]}"


def _row(i: int) -> str:
    return f"row {i + 1}"


def text_column(d: Declaration, table: pa.Table, column: str, where: str) -> pa.Array:
    """A text column as strings; a missing or blank text is refused (a model would see only [CLS] [SEP])."""
    values = table.column(column).combine_chunks().cast(pa.string())
    blank = pc.equal(pc.utf8_trim_whitespace(values), "").fill_null(True).to_numpy(zero_copy_only=False)
    if blank.any():
        raise BamError(f"{d.name}: {where}, {_row(int(np.argmax(blank)))}: text column {column!r} is empty")
    return values


def class_labels(d: Declaration, values: list, where: str) -> pa.Array:
    """Declared label values -> their index in head order."""
    index = {label_key(v): i for i, v in enumerate(d.labels)}
    out = np.empty(len(values), np.int64)
    for i, value in enumerate(values):
        key = label_key(value)
        if key not in index:
            what = "missing" if key is None else f"{value!r} is not one of {d.name}'s labels ({', '.join(index)})"
            raise BamError(f"{d.name}: {where}, {_row(i)}: label {what}")
        out[i] = index[key]
    return pa.array(out)


def regression_labels(d: Declaration, values: list, where: str) -> pa.Array:
    """Numbers (or numbers written as text) inside the declared range."""
    low, high = d.label_range
    out = np.empty(len(values), np.float64)
    for i, value in enumerate(values):
        if label_key(value) is None or value == "":  # null, NaN, or a CSV's empty cell
            raise BamError(f"{d.name}: {where}, {_row(i)}: label missing")
        try:
            number = float(value) if not isinstance(value, bool) else float("nan")
        except (TypeError, ValueError):
            number = float("nan")
        if np.isnan(number):
            raise BamError(f"{d.name}: {where}, {_row(i)}: label {value!r} is not a number")
        if not low <= number <= high:
            raise BamError(f"{d.name}: {where}, {_row(i)}: label {value!r} is outside the range [{low:g}, {high:g}]")
        out[i] = number
    return pa.array(out)


def load_split(d: Declaration, split: str) -> pa.Table:
    if d.hub is None:
        where = d.files[split]
        table = read_file(where)
    else:
        table, where = read_hub(d, split)
    check_columns(d, table.column_names, split, where)
    texts = [text_column(d, table, c, where) for c in d.text]
    labels = None
    if split != "test":  # test labels are never read (the hub's are -1)
        values = table.column(d.label).to_pylist()
        labels = class_labels(d, values, where) if d.labels is not None else regression_labels(d, values, where)
    return make_split(d.task, texts[0], texts[1] if len(texts) == 2 else None, labels,
                      where=f"{d.name}: {where}", row_name=_row)


def load(d: Declaration) -> dict[str, pa.Table]:
    """The declared splits of the task (a test split is optional), in the prepared format."""
    return {split: load_split(d, split) for split in d.sources}
