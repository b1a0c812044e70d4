"""GLUE from the Hugging Face hub (`nyu-mll/glue`) or a local directory laid out like that repository.

`datasets.load_dataset(name, config, split=...)`; the hub's label integers are already the canonical
order of bam_core.data.tasks, its test labels are -1 (stored here as null), and its `idx` column is not
used: MRPC's has gaps, so idx is the row order, as for the TSV source. STS-B scores are float32 on the
hub; data.encode_labels keeps every source's scores at float32 precision, so the tables agree.
"""

from __future__ import annotations

import pyarrow as pa

from bam_core.data.splits import make_split
from bam_core.data.tasks import Task
from bam_core.errors import BamError

HUB_NAME = "nyu-mll/glue"

# hub config -> (text_a column, text_b column or None)
COLUMNS = {
    "cola": ("sentence", None),
    "sst2": ("sentence", None),
    "mrpc": ("sentence1", "sentence2"),
    "stsb": ("sentence1", "sentence2"),
    "qqp": ("question1", "question2"),
    "mnli": ("premise", "hypothesis"),
    "qnli": ("question", "sentence"),
    "rte": ("sentence1", "sentence2"),
    "wnli": ("sentence1", "sentence2"),
    "ax": ("premise", "hypothesis"),  # GLUE's diagnostic set: test only
}
MNLI_SUFFIX = {"MNLI": "_matched", "MNLI-mm": "_mismatched"}  # both read config mnli


def hub_split(task: Task, split: str) -> str:
    """Our split name -> the hub's (MNLI: matched dev/test; MNLI-mm: mismatched)."""
    name = {"train": "train", "dev": "validation", "test": "test"}[split]
    return name if split == "train" else name + MNLI_SUFFIX.get(task.name, "")


def fetch(name: str, config: str, split: str) -> pa.Table:
    """One split as an arrow table via datasets (network, cache and offline mode as datasets configures)."""
    import datasets

    try:
        ds = datasets.load_dataset(name, config, split=split)
    except Exception as err:  # datasets raises many types (connection, not found, bad config)
        raise BamError(f"hub dataset {name!r} config {config!r} split {split!r}: {type(err).__name__}: {err}") from None
    return ds.with_format("arrow")[:]


def load_split(task: Task, name: str, split: str) -> pa.Table:
    config, where_split = task.hub_config, hub_split(task, split)
    table = fetch(name, config, where_split)
    a, b = COLUMNS[config]
    where = f"hub {name} {config}/{where_split}"
    for col in (a, b, "label"):
        if col and col not in table.column_names:
            raise BamError(f"{where}: column {col!r} missing (columns: {', '.join(table.column_names)})")
    labels = None if split == "test" else table.column("label")  # test labels are -1 on the hub
    return make_split(task, table.column(a), None if b is None else table.column(b), labels, where=where)


def load(task: Task, name: str = HUB_NAME) -> dict[str, pa.Table]:
    """The splits of one task the hub has (task.splits), from the hub or a local mirror directory."""
    return {split: load_split(task, name, split) for split in task.splits}
