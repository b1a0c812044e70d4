"""The run spec: one typed dataclass holding everything a training run depends on.

Defaults are the paper's multi-task settings (Clark et al. 2019, section 4). The spec is validated
on load (a bad key, type or value is a BamError naming the key), saved in every resume checkpoint
and copied into metrics.json, so a result always carries the settings that produced it.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field
from pathlib import Path

from bam_core.data.tasks import TASKS, get_task
from bam_core.errors import BamError
from bam_core.method.sampling import BATCHINGS, EPOCHS

# How a run executes, not what it computes: changing them neither reruns a finished run (the workflow
# passes them to `bam train` outside the params that Snakemake compares) nor blocks a resume.
EXECUTION_KEYS = ("checkpoint_every", "checkpoint_minutes", "num_threads")

CHOICES = {
    "mode": ("single", "multi"),
    "loss_reduction": ("sum", "mean"),
    "regression_head": ("sigmoid", "linear"),
    "device": ("auto", "cpu", "cuda"),
    "precision": ("auto", "fp32", "bf16"),
    "lr_schedule": ("reference", "warmup_linear_decay"),
    "epoch": EPOCHS,
    "batching": BATCHINGS,
}
INIT_KINDS = ("config", "pretrained", "checkpoint")


@dataclass
class RunSpec:
    # what to train
    name: str = "run"  # for logs, e.g. "single-multi seed 0 group all"
    mode: str = "multi"  # single: one model per task, one after another; multi: one shared model
    tasks: list = field(default_factory=list)  # GLUE task names
    eval_tasks: list = field(default_factory=list)  # evaluation sets predicted by a task's head (MNLI-mm, AX)
    tokens_dir: str = ""  # {tokens_dir}/{task}/{split}.parquet from `bam tokenize`
    init: dict = field(default_factory=lambda: {"kind": "config", "path": ""})
    teacher_logits: typing.Optional[str] = None  # merged teacher logits parquet, None = no distillation
    # the method
    annealing: typing.Union[str, float] = "linear"  # teacher annealing: lambda = step/total (or fixed)
    sampling_exponent: float = 0.75  # task t drawn with prob ~ |D_t|^exponent (1.0 = no task sampling)
    epoch: str = "reference_copies"  # examples per epoch: the reference's task copies, or sum_t |D_t|
    batching: str = "mixed"  # mixed: random task composition per batch (the paper); bucketed: by length
    # optimisation (paper, multi-task)
    lr: float = 1e-4
    layerwise_lr_decay: typing.Union[float, dict] = 0.9  # lr * alpha**depth, depth 0 = task heads;
    #   single mode may give {task: alpha} (Single's per-task choice, filled in from results/alpha_choice.json)
    batch_size: int = 128
    epochs: float = 6
    min_steps: int = 0  # at least this many optimiser steps (single mode: per task); 0, the paper: epochs decide
    warmup_fraction: float = 0.1
    weight_decay: float = 0.01
    adam_epsilon: float = 1e-6
    adam_bias_correction: bool = False  # false: BERT's Adam (reference code); true: torch's AdamW
    lr_schedule: str = "reference"  # warm-up, then lr * (1 - t/T); warmup_linear_decay: lr * (T-t)/(T-W)
    max_grad_norm: float = 1.0
    max_seq_length: int = 128
    dropout: float = 0.1  # on the pooled vector and inside the encoder (BERT hidden + attention)
    loss_reduction: str = "sum"  # reference code sums over the batch
    regression_head: str = "sigmoid"  # the paper; "linear" = reference code
    double_unordered: bool = False  # reference code: MRPC, STS-B doubled with sentences swapped
    # execution
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # auto: bf16 autocast + TF32 on cuda, fp32 on cpu
    num_threads: typing.Optional[int] = None
    checkpoint_every: int = 1000  # steps between resume checkpoints
    checkpoint_minutes: typing.Optional[float] = None  # and at most this long apart (bounds what a SIGKILL loses)
    eval_batch_size: int = 256
    output_dir: str = ""  # results/runs/{variant}/{seed}/{group}
    resume_dir: str = ""  # outside output_dir: Snakemake deletes a failed job's outputs
    save_model: bool = False  # write {output_dir}/model/ for a later init
    predict_train: bool = True  # logits over the train split too, for a run that teaches (the plan says which)
    predict_swapped: bool = False  # and over MRPC/STS-B train swapped, for students that double_unordered

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def alpha(self, task: str) -> float:
        """The layer-wise lr decay of the model trained on `task` (its own in single mode with a map)."""
        a = self.layerwise_lr_decay
        return float(a[task] if isinstance(a, dict) else a)


_HINTS = typing.get_type_hints(RunSpec)


def _check_type(key: str, value, hint):
    """True when `value` fits the dataclass annotation (ints are accepted where floats are)."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) is typing.Union:
        return any(_check_type(key, value, a) for a in args)
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def spec_from_dict(data: dict, source: str = "run spec") -> RunSpec:
    """Validate a dict against RunSpec; every error names the offending key."""
    if not isinstance(data, dict):
        raise BamError(f"{source}: expected a JSON object")
    known = {f.name for f in dataclasses.fields(RunSpec)}
    for key in data:
        if key not in known:
            raise BamError(f"{source}: unknown key {key!r}")
    for key, value in data.items():
        if not _check_type(key, value, _HINTS[key]):
            raise BamError(f"{source}: key {key!r} has the wrong type ({type(value).__name__}: {value!r})")
    spec = RunSpec(**data)
    for key, choices in CHOICES.items():
        if getattr(spec, key) not in choices:
            raise BamError(f"{source}: key {key!r} must be one of {', '.join(choices)}, not {getattr(spec, key)!r}")
    if isinstance(spec.annealing, str) and spec.annealing != "linear":
        raise BamError(f"{source}: key 'annealing' must be 'linear' or a number in [0, 1], not {spec.annealing!r}")
    if not isinstance(spec.annealing, str) and not 0.0 <= spec.annealing <= 1.0:
        raise BamError(f"{source}: key 'annealing' must be 'linear' or a number in [0, 1], not {spec.annealing!r}")
    if not spec.tasks or not all(isinstance(t, str) for t in spec.tasks):
        raise BamError(f"{source}: key 'tasks' must be a non-empty list of task names")
    if len(set(spec.tasks)) != len(spec.tasks):
        raise BamError(f"{source}: key 'tasks' lists a task twice")
    for t in spec.tasks:
        try:
            get_task(t)
        except BamError as err:
            raise BamError(f"{source}: key 'tasks': {err}") from None
    for t in spec.eval_tasks:
        head = get_task(t).head if t in TASKS else None
        if head not in spec.tasks:
            raise BamError(f"{source}: key 'eval_tasks': {t!r} is not an evaluation set of the run's tasks")
    init = spec.init
    if set(init) != {"kind", "path"} or init.get("kind") not in INIT_KINDS or not isinstance(init.get("path"), str):
        raise BamError(f"{source}: key 'init' must be {{kind: {'|'.join(INIT_KINDS)}, path: str}}, not {init!r}")
    for key in ("batch_size", "checkpoint_every", "eval_batch_size", "max_seq_length"):
        if getattr(spec, key) < 1:
            raise BamError(f"{source}: key {key!r} must be >= 1")
    if spec.min_steps < 0:
        raise BamError(f"{source}: key 'min_steps' must be >= 0")
    alpha = spec.layerwise_lr_decay
    if isinstance(alpha, dict):
        if spec.mode != "single" or set(alpha) != set(spec.tasks):
            raise BamError(f"{source}: key 'layerwise_lr_decay' may be a {{task: alpha}} map only in single mode, "
                           f"with exactly the run's tasks ({', '.join(spec.tasks)})")
        if not all(isinstance(a, (int, float)) and not isinstance(a, bool) and a > 0 for a in alpha.values()):
            raise BamError(f"{source}: key 'layerwise_lr_decay' must map every task to a number > 0")
    for key in ("lr", "epochs", "adam_epsilon", "max_grad_norm") + (() if isinstance(alpha, dict) else ("layerwise_lr_decay",)):
        if not getattr(spec, key) > 0:
            raise BamError(f"{source}: key {key!r} must be > 0")
    for key in ("warmup_fraction", "dropout", "weight_decay"):
        if not 0.0 <= getattr(spec, key) < 1.0:
            raise BamError(f"{source}: key {key!r} must be in [0, 1)")
    if spec.predict_swapped and not spec.predict_train:
        raise BamError(f"{source}: key 'predict_swapped' needs predict_train (swapped pairs are train rows)")
    if spec.checkpoint_minutes is not None and not spec.checkpoint_minutes > 0:
        raise BamError(f"{source}: key 'checkpoint_minutes' must be > 0 or null")
    if spec.num_threads is not None and spec.num_threads < 1:
        raise BamError(f"{source}: key 'num_threads' must be >= 1 or null")
    for key in ("tokens_dir", "output_dir", "resume_dir"):
        if not getattr(spec, key):
            raise BamError(f"{source}: key {key!r} is required")
    return spec


def fill_alpha(settings: dict, choice: dict[str, float]) -> dict:
    """A run spec with Single's per-task alpha: a float for one task, a {task: alpha} map for several."""
    missing = [t for t in settings["tasks"] if t not in choice]
    if missing:
        raise BamError(f"alpha choice has no entry for task(s) {', '.join(missing)}")
    alphas = {t: choice[t] for t in settings["tasks"]}
    value = alphas[settings["tasks"][0]] if len(alphas) == 1 else alphas
    return dict(settings, layerwise_lr_decay=value)


def read_json_file(path: str | Path) -> dict:
    """A run spec file's JSON, with a one-line error for a missing or broken file."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BamError(f"{path}: run spec not found") from None
    except json.JSONDecodeError as err:
        raise BamError(f"{path}: not valid JSON (line {err.lineno}: {err.msg})") from None


def load_spec(path: str | Path) -> RunSpec:
    return spec_from_dict(read_json_file(path), str(path))
