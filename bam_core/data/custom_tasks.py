"""Tasks of your own, declared in the config's `custom_tasks` beside GLUE's: the declaration, and how it
reaches every `bam` command.

    custom_tasks:
      BoolQ:
        files: {train: data/boolq/train.jsonl, dev: data/boolq/val.jsonl, test: data/boolq/test.jsonl}
        text: [question, passage]
        label: label
        labels: [false, true]
        metric: accuracy

A declaration becomes a `Task` of the shape GLUE's have (bam_core.data.tasks): one or two text columns, the
declared label values in head order (classification) or a range scaled to [0, 1] (regression, as STS-B's
[0, 5]), and a metric. Its files, or its hub dataset, are read by bam_core.data.task_files.

How declarations reach a job: when Snakemake reads the Snakefile, workflow/rules/common.smk checks the
`custom_tasks` block and puts it, as JSON, into the environment variable BAM_TASKS; `get_task` looks a name
up there after GLUE's. Every job inherits it: a local job is Snakemake's child process, and a SLURM job runs
Snakemake on the same Snakefile again, which sets it again. This was chosen over a tasks file passed to each
command because every command that resolves a task (prepare, tokenize, train, teacher-logits, choose-alpha,
collect, report-settings, ...) then does so in one way, with no new option and no change to the rules; a
command run by hand needs one export, `export BAM_TASKS="$(bam custom-tasks CONFIG)"`. What a task's data
was prepared from is not left to the environment: the prepare rule's params carry the definition and its
inputs the files, so an edit reruns that task's preparation and everything after it.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from bam_core.data.tasks import SPLITS, TASKS, Task
from bam_core.errors import BamError

TASKS_ENV = "BAM_TASKS"
KEY = "custom_tasks"
# The file types datasets' local loaders read, by extension (JSON: one object per line).
FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "json", ".json": "json", ".parquet": "parquet"}
CLASSIFICATION_METRICS = ("accuracy", "mcc", "f1")
REGRESSION_METRICS = ("spearman", "pearson")
BINARY_METRICS = ("mcc", "f1")  # of two labels: MCC as CoLA's, F1 of the second label as MRPC's
DEFAULTS = {"label": "label", "in_average": True}  # the schema's defaults, for declarations written by hand
KEYS = ("files", "hub", "text", "label", "labels", "range", "metric", "in_average")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")  # a directory name under results/data
RESERVED = ("Avg", "all")  # the scores' average column and the multi-task group
# The tasks a config may train: GLUE's, less the evaluation sets read by another task's head (MNLI-mm, AX).
GLUE_TRAINABLE = tuple(name for name, task in TASKS.items() if task.head is None)


def label_key(value) -> str | None:
    """One spelling for a label value whatever the file type gave: True and "true" from a CSV are "true",
    1 and 1.0 are "1" (an int column with a gap reads back as floats); None for a missing value."""
    if value is None or isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Declaration:
    """One declared task: where its rows are, which columns to read, and the Task they make."""

    name: str
    files: dict = field(compare=False)  # split -> path (train, dev; test optional); {} with hub
    hub: dict | None = field(compare=False)  # {"name", "config", "splits": {split: the hub's split}}
    text: tuple[str, ...]
    label: str
    labels: tuple | None  # the declared values, in head order; None: regression
    label_range: tuple[float, float] | None
    metric: str
    in_average: bool

    @property
    def task(self) -> Task:
        keys = None if self.labels is None else tuple(label_key(v) for v in self.labels)
        return Task(self.name, len(self.text) == 2, keys, self.metric, "", in_average=self.in_average,
                    label_range=self.label_range or (0.0, 1.0), glue=False,
                    splits=tuple(s for s in SPLITS if s in self.sources))

    @property
    def sources(self) -> dict[str, str]:
        """split -> file path or hub split name, for the splits declared (a test split is optional)."""
        return dict(self.files) if self.hub is None else dict(self.hub["splits"])

    def definition(self) -> dict:
        """What the prepared data depends on (in_average does not: it only changes the Avg column)."""
        raw = {"text": list(self.text), "label": self.label, "metric": self.metric}
        raw |= {"files": dict(self.files)} if self.hub is None else {"hub": self.hub}
        raw |= {"labels": list(self.labels)} if self.labels is not None else {"range": list(self.label_range)}
        return raw

    def to_config(self) -> dict:
        return self.definition() | {"in_average": self.in_average}


def _fail(name: str, key: str, message: str):
    raise BamError(f"{KEY}.{name}{'.' + key if key else ''}: {message}")


def check_name(name: str) -> None:
    if name in TASKS:
        _fail(name, "", f"{name} is a GLUE task's name; give your task another name (or list {name} in "
                        "tasks to use GLUE's)")
    if not NAME.match(name) or name in RESERVED:
        _fail(name, "", "a task name is letters, digits and . _ + - (not Avg or all): it names results/data/<task>")


def file_format(path: str) -> str | None:
    return FORMATS.get(Path(path).suffix.lower())


def _where(name: str, raw: dict) -> dict:
    files, hub = raw.get("files"), raw.get("hub")
    if (files is None) == (hub is None):
        _fail(name, "", "give files (local CSV, TSV, JSON Lines or Parquet) or hub (a datasets name), one of the two")
    splits = files if hub is None else (hub.get("splits") if isinstance(hub, dict) else None)
    key = "files" if hub is None else "hub.splits"
    if not isinstance(splits, dict) or not all(isinstance(v, str) for v in splits.values()):
        _fail(name, key, "must map train, dev (and optionally test) to " + ("paths" if hub is None else "split names"))
    for split in ("train", "dev"):
        if split not in splits:
            _fail(name, key, f"{split} is missing (train and dev are needed; test is optional)")
    for split in splits:
        if split not in SPLITS:
            _fail(name, f"{key}.{split}", f"unknown split (known: {', '.join(SPLITS)})")
    if hub is not None:
        if not isinstance(hub.get("name"), str) or set(hub) - {"name", "config", "splits"}:
            _fail(name, "hub", "must be {name: DATASET, config: CONFIG or null, splits: {train: ..., dev: ...}}")
        return {"hub": {"name": hub["name"], "config": hub.get("config"), "splits": dict(splits)}}
    for split, path in splits.items():
        if file_format(path) is None:
            _fail(name, f"files.{split}", f"{path}: unknown file type {Path(path).suffix!r} "
                                          f"(known: {', '.join(FORMATS)})")
    return {"files": dict(splits)}


def parse_declaration(name: str, raw: dict) -> Declaration:
    """A declaration from its config entry; every mistake is one line naming custom_tasks.NAME.KEY."""
    check_name(name)
    if not isinstance(raw, dict):
        _fail(name, "", "must be a mapping (files or hub, text, label, labels or range, metric)")
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        _fail(name, unknown[0], f"unknown key (known keys: {', '.join(sorted(KEYS))})")
    where = _where(name, raw)
    text = raw.get("text")
    if isinstance(text, str):
        text = [text]
    if not isinstance(text, list) or not 1 <= len(text) <= 2 or not all(isinstance(c, str) for c in text) \
            or len(set(text)) != len(text):
        _fail(name, "text", "one or two distinct column names (the second sentence of a pair task second)")
    label = raw.get("label", DEFAULTS["label"])
    if not isinstance(label, str) or label in text:
        _fail(name, "label", "the label's column name, not a text column")
    labels, span = raw.get("labels"), raw.get("range")
    if (labels is None) == (span is None):
        _fail(name, "", "give labels (classification: the label values in head order) or range (regression: "
                        "[low, high]), one of the two")
    if labels is not None:
        keys = [label_key(v) if isinstance(v, (str, int, float, bool)) else None for v in labels] \
            if isinstance(labels, list) else [None]
        if len(keys) < 2 or None in keys or len(set(keys)) != len(keys):
            _fail(name, "labels", "two or more distinct label values (strings, integers or true/false)")
    else:
        if not (isinstance(span, list) and len(span) == 2 and all(
                isinstance(x, (int, float)) and not isinstance(x, bool) for x in span) and span[0] < span[1]):
            _fail(name, "range", f"[low, high] with low < high (STS-B's is [0, 5]), got {span!r}")
        span = (float(span[0]), float(span[1]))
    metric = raw.get("metric")
    kind, fitting = (("classification", CLASSIFICATION_METRICS) if labels is not None
                     else ("regression", REGRESSION_METRICS))
    if metric not in fitting:
        _fail(name, "metric", f"{metric!r} does not fit a {kind} task; use {' or '.join(fitting)}")
    if metric in BINARY_METRICS and len(labels) != 2:
        _fail(name, "metric", f"{metric} needs two labels, {name} has {len(labels)}; use accuracy")
    in_average = raw.get("in_average", DEFAULTS["in_average"])
    if not isinstance(in_average, bool):
        _fail(name, "in_average", f"true or false, got {in_average!r}")
    return Declaration(name, where.get("files", {}), where.get("hub"), tuple(text), label,
                       None if labels is None else tuple(labels), span, metric, in_average)


def parse_declarations(raw: dict | None) -> dict[str, Declaration]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise BamError(f"{KEY}: must map task names to declarations, got {type(raw).__name__}")
    return {name: parse_declaration(str(name), entry) for name, entry in raw.items()}


def check_task_names(config: dict) -> dict[str, Declaration]:
    """The validated config's declarations, parsed; every task the config names is GLUE's or declared. The files
    are checked by bam_core.data.task_files.check_declared_files (kept apart: no stage needs to import it)."""
    declared = parse_declarations(config.get(KEY))
    known = f"neither a GLUE task ({', '.join(GLUE_TRAINABLE)}) nor declared under {KEY}"
    named = [(f"tasks.{i}", t) for i, t in enumerate(config["tasks"])]
    named += [(f"data.max_train_examples.{t}", t) for t in config["data"].get("max_train_examples", {})]
    for key, task in named:
        if task not in GLUE_TRAINABLE and task not in declared:
            raise BamError(f"{key}: {task!r} is {known}")
    return declared


def to_json(declarations: dict[str, Declaration]) -> str:
    """The value of BAM_TASKS: every declaration as the config says it, defaults filled in."""
    return json.dumps({n: d.to_config() for n, d in declarations.items()}, sort_keys=True)


def definition_json(declaration: Declaration) -> str:
    """A task's definition as text, for the prepare rule's params (compared as text: keys sorted)."""
    return json.dumps(declaration.definition(), sort_keys=True)


@lru_cache(maxsize=8)
def _from_json(text: str) -> dict[str, Declaration]:
    try:
        raw = json.loads(text)
    except ValueError as err:
        raise BamError(f"{TASKS_ENV}: not valid JSON ({err}); `bam custom-tasks CONFIG` prints it") from None
    return parse_declarations(raw)


def declared_tasks() -> dict[str, Declaration]:
    """The declarations this process was given in BAM_TASKS (none when it is unset)."""
    return _from_json(os.environ.get(TASKS_ENV) or "{}")


def main(argv: list[str]) -> int:
    """`bam custom-tasks CONFIG`: print a config's custom_tasks as BAM_TASKS takes them, for commands run by hand:
    export BAM_TASKS="$(bam custom-tasks workflow/configs/own-tasks.yaml)"."""
    import argparse

    import yaml

    parser = argparse.ArgumentParser(prog="bam custom-tasks", description=main.__doc__)
    parser.add_argument("config", help="a workflow config with a custom_tasks block")
    args = parser.parse_args(argv)
    try:
        config = yaml.safe_load(Path(args.config).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise BamError(f"{args.config}: not found") from None
    print(to_json(parse_declarations(config.get(KEY))))
    return 0
