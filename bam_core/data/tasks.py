"""The task registry: one entry per GLUE task, the single source of its shape, labels and metric.

Every data source maps its labels to the canonical order here (the hub's integer order), so a
teacher's logits from one source teach a student reading another. Tasks of your own, declared in the
config's `custom_tasks`, are resolved here too (bam_core.data.custom_tasks says how they reach a job).
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
    metric: str  # "mcc" | "spearman" | "accuracy" (declared tasks also "f1" | "pearson")
    hub_config: str  # config name in nyu-mll/glue ("" for a declared task)
    in_average: bool = True  # WNLI is excluded from the paper's average
    label_range: tuple[float, float] = (0.0, 1.0)  # regression labels are scaled from this range to [0, 1]
    head: str | None = None  # an evaluation set of another task: predicted by that task's head, never trained on
    splits: tuple[str, ...] = SPLITS  # what the sources have; prepare writes the others empty
    glue: bool = True  # False: declared in the config's custom_tasks

    @property
    def is_regression(self) -> bool:
        return self.labels is None

    @property
    def num_outputs(self) -> int:
        return 1 if self.labels is None else len(self.labels)

    @property
    def label_offset(self) -> float:
        return self.label_range[0]

    @property
    def label_scale(self) -> float:
        """Regression labels are (y - offset) / scale in [0, 1]; STS-B: y / 5."""
        return self.label_range[1] - self.label_range[0]

    def to_unit(self, values):
        """Regression labels on their range -> [0, 1] (STS-B's: divided by 5, nothing subtracted)."""
        return (values - self.label_offset) / self.label_scale if self.label_offset else values / self.label_scale

    def from_unit(self, values):
        """The head's [0, 1] output -> the label's range."""
        return values * self.label_scale + self.label_offset if self.label_offset else values * self.label_scale


NLI_LABELS = ("entailment", "neutral", "contradiction")
_ALL = [
    Task("CoLA", False, ("unacceptable", "acceptable"), "mcc", "cola"),
    Task("SST-2", False, ("negative", "positive"), "accuracy", "sst2"),
    Task("MRPC", True, ("not_equivalent", "equivalent"), "accuracy", "mrpc"),
    Task("STS-B", True, None, "spearman", "stsb", label_range=(0.0, 5.0)),
    Task("QQP", True, ("not_duplicate", "duplicate"), "accuracy", "qqp"),
    Task("MNLI", True, NLI_LABELS, "accuracy", "mnli"),  # matched dev and test (the leaderboard's MNLI-m)
    Task("QNLI", True, ("entailment", "not_entailment"), "accuracy", "qnli"),
    Task("RTE", True, ("entailment", "not_entailment"), "accuracy", "rte"),
    Task("WNLI", True, ("not_entailment", "entailment"), "accuracy", "wnli", in_average=False),
    # MNLI's mismatched dev/test and GLUE's diagnostic set (test only; scored by the server as R3, an MCC)
    Task("MNLI-mm", True, NLI_LABELS, "accuracy", "mnli", in_average=False, head="MNLI", splits=("dev", "test")),
    Task("AX", True, NLI_LABELS, "mcc", "ax", in_average=False, head="MNLI", splits=("test",)),
]

TASKS: dict[str, Task] = {t.name: t for t in _ALL}
# The paper's eight tasks, in the column order of its Table 1.
PAPER_TASKS = ("CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE")
# GLUE's official train and dev sizes (MNLI: matched dev), so that a source holding less (a random subset of
# a large training set, a dev sample) is told apart in Table 1 from the size the paper trained on.
GLUE_SIZES = {"CoLA": (8551, 1043), "SST-2": (67349, 872), "MRPC": (3668, 408), "STS-B": (5749, 1500),
              "QQP": (363846, 40430), "MNLI": (392702, 9815), "QNLI": (104743, 5463), "RTE": (2490, 277),
              "WNLI": (635, 71)}
# Symmetric pair tasks the reference code doubles with the sentences swapped (`double_unordered`).
UNORDERED_TASKS = ("MRPC", "STS-B")


def evaluation_tasks(trained) -> list[str]:
    """The evaluation sets predicted by the heads of `trained` (MNLI: MNLI-mm and AX), in registry order."""
    return [t.name for t in _ALL if t.head is not None and t.head in trained]


def get_task(name: str) -> Task:
    """A GLUE task, or one declared in the config's custom_tasks (bam_core.data.custom_tasks)."""
    if name in TASKS:
        return TASKS[name]
    from bam_core.data.custom_tasks import declared_tasks

    declared = declared_tasks()
    if name in declared:
        return declared[name].task
    raise BamError(f"unknown task {name!r}; known tasks: {', '.join([*TASKS, *declared])}")


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise BamError(f"unknown split {split!r}; known splits: {', '.join(SPLITS)}")
    return split
