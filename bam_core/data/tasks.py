"""The task registry: one entry per GLUE task, the single source of its shape, labels and metric.

Every data source maps its labels to the canonical order here (the hub's integer order), so a
teacher's logits from one source teach a student reading another.
"""

from __future__ import annotations

from dataclasses import dataclass

from bam_core.errors import BamError

SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class Task:
    name: str  # the GLUE name, also the directory name under results/data
    pair: bool  # sentence-pair input (text_b present)
    labels: tuple[str, ...] | None  # canonical label order; None for regression
    metric: str  # "mcc" | "spearman" | "accuracy"
    hub_config: str  # config name in nyu-mll/glue
    in_average: bool = True  # WNLI is excluded from the paper's average
    label_scale: float = 1.0  # regression labels are divided by this to lie in [0, 1]

    @property
    def is_regression(self) -> bool:
        return self.labels is None

    @property
    def num_outputs(self) -> int:
        return 1 if self.labels is None else len(self.labels)


_ALL = [
    Task("CoLA", False, ("unacceptable", "acceptable"), "mcc", "cola"),
    Task("SST-2", False, ("negative", "positive"), "accuracy", "sst2"),
    Task("MRPC", True, ("not_equivalent", "equivalent"), "accuracy", "mrpc"),
    Task("STS-B", True, None, "spearman", "stsb", label_scale=5.0),
    Task("QQP", True, ("not_duplicate", "duplicate"), "accuracy", "qqp"),
    Task("MNLI", True, ("entailment", "neutral", "contradiction"), "accuracy", "mnli"),
    Task("QNLI", True, ("entailment", "not_entailment"), "accuracy", "qnli"),
    Task("RTE", True, ("entailment", "not_entailment"), "accuracy", "rte"),
    Task("WNLI", True, ("not_entailment", "entailment"), "accuracy", "wnli", in_average=False),
]

TASKS: dict[str, Task] = {t.name: t for t in _ALL}
# The paper's eight tasks, in the column order of its Table 1.
PAPER_TASKS = ("CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE")
# Symmetric pair tasks the reference code doubles with the sentences swapped (`double_unordered`).
UNORDERED_TASKS = ("MRPC", "STS-B")


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise BamError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)}") from None


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise BamError(f"unknown split {split!r}; known splits: {', '.join(SPLITS)}")
    return split
