"""GLUE from a local directory in the layout of the original download_glue_data.py.

DIR/{CoLA,SST-2,MRPC,STS-B,QQP,MNLI,QNLI,RTE,WNLI}/{train,dev,test}.tsv (MNLI: dev_matched.tsv,
test_matched.tsv; MNLI-mm: MNLI/dev_mismatched.tsv, MNLI/test_mismatched.tsv; AX: diagnostic/diagnostic.tsv,
whose columns are index, sentence1, sentence2). Fields are split on TAB with quoting disabled, as the GLUE baselines read them:
these files contain unbalanced double quotes that a CSV reader would swallow across lines.

A test file that is missing or has no rows (a partial download; MNLI's and QQP's in ../shared/glue) is
left out of what `load` returns: `bam prepare` records that split as absent instead of failing, since
test labels are never used for a score. A missing or empty train or dev file is an error.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from bam_core.data.splits import make_split
from bam_core.data.tasks import Task
from bam_core.errors import BamError


@dataclass(frozen=True)
class Layout:
    """Where one split's fields are: file name, field count, header or not, columns of text_a/text_b/label."""

    file: str
    fields: int
    header: bool
    a: int
    b: int | None = None
    label: int | None = None  # None: unlabelled (test)


LAYOUTS: dict[str, dict[str, Layout]] = {
    "CoLA": {
        "train": Layout("train.tsv", 4, False, a=3, label=1),  # source, label, marker, sentence
        "dev": Layout("dev.tsv", 4, False, a=3, label=1),
        "test": Layout("test.tsv", 2, True, a=1),  # index, sentence
    },
    "SST-2": {
        "train": Layout("train.tsv", 2, True, a=0, label=1),  # sentence, label
        "dev": Layout("dev.tsv", 2, True, a=0, label=1),
        "test": Layout("test.tsv", 2, True, a=1),
    },
    "MRPC": {  # Quality, #1 ID, #2 ID, #1 String, #2 String (test: index first)
        "train": Layout("train.tsv", 5, True, a=3, b=4, label=0),
        "dev": Layout("dev.tsv", 5, True, a=3, b=4, label=0),
        "test": Layout("test.tsv", 5, True, a=3, b=4),
    },
    "STS-B": {  # index genre filename year old_index source1 source2 sentence1 sentence2 score
        "train": Layout("train.tsv", 10, True, a=7, b=8, label=9),
        "dev": Layout("dev.tsv", 10, True, a=7, b=8, label=9),
        "test": Layout("test.tsv", 9, True, a=7, b=8),
    },
    "QQP": {  # id qid1 qid2 question1 question2 is_duplicate (test: id question1 question2)
        "train": Layout("train.tsv", 6, True, a=3, b=4, label=5),
        "dev": Layout("dev.tsv", 6, True, a=3, b=4, label=5),
        "test": Layout("test.tsv", 3, True, a=1, b=2),
    },
    "MNLI": {  # sentence1 at 8, sentence2 at 9, gold_label last
        "train": Layout("train.tsv", 12, True, a=8, b=9, label=11),
        "dev": Layout("dev_matched.tsv", 16, True, a=8, b=9, label=15),
        "test": Layout("test_matched.tsv", 10, True, a=8, b=9),
    },
}
LAYOUTS["MNLI-mm"] = {"dev": Layout("dev_mismatched.tsv", 16, True, a=8, b=9, label=15),
                      "test": Layout("test_mismatched.tsv", 10, True, a=8, b=9)}
LAYOUTS["AX"] = {"test": Layout("diagnostic.tsv", 3, True, a=1, b=2)}
FOLDERS = {"MNLI-mm": "MNLI", "AX": "diagnostic"}  # where the folder is not the task's name
for _name in ("QNLI", "RTE", "WNLI"):  # index, a, b, label (test: no label)
    LAYOUTS[_name] = {
        "train": Layout("train.tsv", 4, True, a=1, b=2, label=3),
        "dev": Layout("dev.tsv", 4, True, a=1, b=2, label=3),
        "test": Layout("test.tsv", 3, True, a=1, b=2),
    }


def read_rows(path: Path, fields: int, header: bool) -> tuple[list[list[str]], int]:
    """Rows of a TSV split on TAB (no quoting); returns (rows, line number of the first row).

    The BOM MRPC's files start with is dropped. Bytes that are not UTF-8, or a row with another
    field count, are an error naming the file and its 1-based line number.
    """
    if not path.exists():
        raise BamError(f"GLUE file {path} not found")
    data = path.read_bytes().removeprefix(codecs.BOM_UTF8)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise BamError(f"{path}, line {line}: not UTF-8 (byte 0x{data[err.start]:02x})") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline ending the last row
    first = 2 if header else 1
    rows = [line.rstrip("\r").split("\t") for line in lines[first - 1 :]]
    counts = [len(r) for r in rows]
    if any(c != fields for c in counts):
        i = next(i for i, c in enumerate(counts) if c != fields)
        raise BamError(f"{path}, line {first + i}: expected {fields} tab-separated fields, found {counts[i]}")
    return rows, first


def load_split(task: Task, glue_dir, split: str) -> pa.Table:
    layout = LAYOUTS[task.name][split]
    folder = Path(glue_dir) / folder_name(task.name)
    path = folder / layout.file
    if not folder.is_dir():
        raise BamError(f"GLUE file {path} not found: no directory {folder} (expected the download_glue_data.py layout)")
    rows, first = read_rows(path, layout.fields, layout.header)
    columns = list(zip(*rows)) if rows else [()] * layout.fields
    return make_split(
        task,
        columns[layout.a],
        None if layout.b is None else columns[layout.b],
        None if layout.label is None else pa.array(columns[layout.label], pa.string()),
        where=str(path),
        row_name=lambda i: f"line {first + i}",
    )


def folder_name(task_name: str) -> str:
    return FOLDERS.get(task_name, task_name)


def test_file_absent(task: Task, glue_dir) -> bool:
    """True when the task's test TSV is missing or holds no rows (a header alone); its folder must exist."""
    layout = LAYOUTS[task.name]["test"]
    path = Path(glue_dir) / folder_name(task.name) / layout.file
    if not path.parent.is_dir():
        return False  # load_split names the missing folder
    if not path.exists():
        return True
    lines = path.read_bytes().removeprefix(codecs.BOM_UTF8).splitlines()
    return len([line for line in lines if line.strip()]) <= int(layout.header)


def load(task: Task, glue_dir) -> dict[str, pa.Table]:
    """The splits of one task the GLUE TSV directory has (task.splits), less a test file it lacks."""
    return {split: load_split(task, glue_dir, split) for split in task.splits
            if not (split == "test" and test_file_absent(task, glue_dir))}
