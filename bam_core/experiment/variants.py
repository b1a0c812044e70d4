"""The experiment plan: the config's variants expanded into runs, teachers and inits.

A *run* is one training job (variant, seed, group). Multi-task variants have one group, `all`;
single-task variants have one group per task, or one `all` group whose job trains each task's model
one after another (`training.single_task_jobs: per_seed`). Single's layer-wise decay is chosen per
task from a grid, so the grid's runs are variants of their own (`single.alpha0.9`), and `single`
itself is materialised from the chosen runs. Everything here is checked before any job runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bam_core.data.glue_tsv import folder_name
from bam_core.data.tasks import PAPER_TASKS, evaluation_tasks, get_task
from bam_core.errors import BamError

SINGLE = "single"  # the variant whose alpha is chosen from the grid; other single-task variants reuse the choice
ALL = "all"


@dataclass(frozen=True)
class Variant:
    id: str
    label: str
    mode: str  # "single" | "multi"
    tasks: tuple[str, ...]
    teacher: str | None
    teacher_seed: str  # "first" | "same"
    init: str | None
    settings: dict = field(hash=False, compare=False)  # effective training settings of the mode + overrides
    grid_alpha: float | None = None  # set on Single's grid variants

    @property
    def alpha_from_choice(self) -> bool:
        """Single-task variants take Single's per-task alpha unless they set one themselves."""
        return self.mode == "single" and self.grid_alpha is None and "layerwise_lr_decay" not in self.settings


def grid_variant_id(alpha: float) -> str:
    return f"{SINGLE}.alpha{alpha:g}"


class Plan:
    """Variants, seeds and runs of one validated config."""

    def __init__(self, config: dict):
        self.config = config
        self.tasks: tuple[str, ...] = tuple(config["tasks"])
        self.seeds: tuple[int, ...] = tuple(range(config["seeds"]))
        self.per_task_jobs = config["training"]["single_task_jobs"] == "per_task"
        self.variants: dict[str, Variant] = {}
        for vid, raw in config["variants"].items():
            self.variants[vid] = self._variant(vid, raw)
        self.grid: tuple[str, ...] = ()
        if SINGLE in self.variants:
            base = self.variants[SINGLE]
            if base.mode != "single" or base.teacher or base.init:
                raise BamError(f"variants.{SINGLE}: must be mode single with no teacher and no init "
                               "(its alpha is chosen from training.single_alpha_grid)")
            for alpha in config["training"]["single_alpha_grid"]:
                gid = grid_variant_id(alpha)
                settings = dict(base.settings, layerwise_lr_decay=alpha)
                self.variants[gid] = Variant(gid, f"{base.label} (alpha {alpha:g})", "single", base.tasks,
                                             None, "first", None, settings, grid_alpha=alpha)
            self.grid = tuple(grid_variant_id(a) for a in config["training"]["single_alpha_grid"])
        self._check_graph()
        self.init_variants = {v.init for v in self.variants.values() if v.init}

    # -- construction and checks ---------------------------------------------------------------

    def _variant(self, vid: str, raw: dict) -> Variant:
        key = f"variants.{vid}"
        tasks = tuple(raw.get("tasks", self.tasks))
        for task in tasks:
            if task not in self.tasks:
                raise BamError(f"{key}.tasks: task {task!r} is not among the experiment's tasks "
                               f"({', '.join(self.tasks)})")
        training = self.config["training"]
        settings = dict(training[raw["mode"]])
        if raw.get("init"):
            settings.update(training["finetune"])
        if raw["mode"] == "single":
            settings.pop("layerwise_lr_decay")  # Single's choice, unless the variant sets its own below
        settings.update(raw.get("settings", {}))
        return Variant(vid, raw.get("label", vid), raw["mode"], tasks, raw.get("teacher"),
                       raw.get("teacher_seed", training["teacher_seed"]), raw.get("init"), settings)

    def _check_graph(self) -> None:
        for v in self.variants.values():
            for key, ref in (("teacher", v.teacher), ("init", v.init)):
                if ref is None:
                    continue
                if ref not in self.variants or ref in self.grid:
                    raise BamError(f"variants.{v.id}.{key}: unknown variant {ref!r}; "
                                   f"known: {', '.join(k for k in self.variants if k not in self.grid)}")
                missing = [t for t in v.tasks if t not in self.variants[ref].tasks]
                if missing:
                    raise BamError(f"variants.{v.id}.{key}: variant {ref!r} does not cover task(s) "
                                   f"{', '.join(missing)}")
            if v.init:
                if self.variants[v.init].mode != "multi":
                    raise BamError(f"variants.{v.id}.init: {v.init!r} is a single-task variant; fine-tuning "
                                   "starts from a multi-task run")
                if v.mode != "single":
                    raise BamError(f"variants.{v.id}.init: fine-tuning from a multi-task run is single-task; "
                                   "set mode: single")
        for v in self.variants.values():  # a cycle would make Snakemake loop; name it here instead
            chain, cur = [v.id], v
            while cur.teacher or cur.init:
                nxt = cur.teacher or cur.init
                if nxt in chain:
                    raise BamError(f"variants.{v.id}: teacher/init cycle {' -> '.join(chain + [nxt])}")
                chain.append(nxt)
                cur = self.variants[nxt]
        named = self.config["tables"]
        refs = [("submission_variant", self.config["submission_variant"])]
        refs += [(f"tables.table1.variants", x) for x in named["table1"]["variants"] + named["table1"]["baselines"]]
        refs += [(f"tables.table3.pairs", x) for pair in named["table3"]["pairs"] for x in pair]
        refs += [("tables.table4.reference", named["table4"]["reference"])]
        refs += [("tables.table4.variants", x) for x in named["table4"]["variants"]]
        refs += [("tables.table4.two_sided", x) for x in named["table4"].get("two_sided", [])]
        refs += [("tables.table5.variants", x) for x in named["table5"]["variants"]]
        for key, ref in refs:
            if ref not in self.variants:
                raise BamError(f"{key}: unknown variant {ref!r}")

    # -- queries the workflow asks -------------------------------------------------------------

    @property
    def reported(self) -> list[str]:
        """Variants whose scores are collected (the grid's runs are reported through Single)."""
        return [v for v in self.variants if v not in self.grid]

    @property
    def trained(self) -> list[str]:
        """Variants with training jobs of their own (Single is selected from its grid, not trained)."""
        return [v for v in self.variants if not (v == SINGLE and self.grid)]

    def groups(self, vid: str) -> list[str]:
        v = self.variants[vid]
        if v.mode == "single" and self.per_task_jobs:
            return list(v.tasks)
        return [ALL]

    def group_tasks(self, vid: str, group: str) -> list[str]:
        return list(self.variants[vid].tasks) if group == ALL else [group]

    def runs(self, vids=None) -> list[tuple[str, int, str]]:
        vids = self.reported + list(self.grid) if vids is None else vids
        return [(v, s, g) for v in vids for s in self.seeds for g in self.groups(v)]

    def teacher_seed(self, vid: str, seed: int) -> int:
        return seed if self.variants[vid].teacher_seed == "same" else self.seeds[0]

    def encoder_init(self, vid: str, seed: int, encoder_dir: str) -> dict:
        v = self.variants[vid]
        if v.init:
            return {"kind": "checkpoint", "path": f"results/runs/{v.init}/{seed}/{ALL}/model"}
        pretrained = self.config["encoder"]["pretrained"]
        if pretrained:
            return {"kind": "pretrained", "path": pretrained}
        return {"kind": "config", "path": encoder_dir}

    def spec_settings(self, vid: str, seed: int, group: str, encoder_dir: str, tokens_dir: str) -> dict:
        """Everything a run depends on except Single's alpha choice (filled in by `bam train --alpha-choice`)."""
        v = self.variants[vid]
        training = self.config["training"]
        spec = {
            "name": f"{vid} seed {seed} group {group}",
            "mode": v.mode,
            "tasks": self.group_tasks(vid, group),
            "eval_tasks": evaluation_tasks(self.group_tasks(vid, group)),
            "tokens_dir": tokens_dir,
            "init": self.encoder_init(vid, seed, encoder_dir),
            "teacher_logits": (f"results/teachers/{v.teacher}/{self.teacher_seed(vid, seed)}/logits.parquet"
                               if v.teacher else None),
            **v.settings,
            "max_seq_length": self.config["max_seq_length"],
            "seed": seed,
            "device": training["device"],
            "precision": training["precision"],
            "num_threads": training["num_threads"],
            "checkpoint_every": training["checkpoint_every"],
            "output_dir": f"results/runs/{vid}/{seed}/{group}",
            "resume_dir": f"results/checkpoints/{vid}/{seed}/{group}",
            "save_model": vid in self.init_variants,
        }
        if v.alpha_from_choice and not self.grid:
            spec["layerwise_lr_decay"] = training["single"]["layerwise_lr_decay"]
        return spec

    def needs_alpha_choice(self, vid: str) -> bool:
        return self.variants[vid].alpha_from_choice and bool(self.grid)

    @property
    def data_tasks(self) -> list[str]:
        """Every task prepared: the trained ones, their evaluation sets, and WNLI (for the submission)."""
        extra = evaluation_tasks(self.tasks) + ["WNLI"]
        return list(self.tasks) + [t for t in extra if t not in self.tasks]

    @property
    def submission_complete(self) -> bool:
        """Whether the submission variant has every task the GLUE leaderboard wants (else: no zip)."""
        return set(PAPER_TASKS) <= set(self.variants[self.config["submission_variant"]].tasks)

    @property
    def curve_variant(self) -> str:
        """Whose lambda/loss curve the figures draw: Single->Multi where the config has it."""
        return "single-multi" if "single-multi" in self.variants else self.config["submission_variant"]

    def report_settings(self, with_statistics: bool) -> dict:
        """Settings of the reporting steps; figures get no statistics or tables, so changing a
        statistics or table setting reruns only statistics and tables."""
        settings = {
            "variants": {v: {"label": self.variants[v].label, "tasks": list(self.variants[v].tasks)}
                         for v in self.reported},
            "tasks": list(self.tasks),
            "source": self.config["data"]["source"],
        }
        if not with_statistics:  # the figures' variant order: the config's (the paper's); JSON keys get sorted
            settings["order"] = self.reported
        else:
            tables = {name: dict(t) for name, t in self.config["tables"].items()}
            tables["table5"]["training_tasks"] = {v: list(self.variants[v].tasks) for v in tables["table5"]["variants"]}
            settings.update(statistics=self.config["statistics"], tables=tables)
        return settings

    def resources(self, vid: str) -> dict:
        return dict(self.config["training"]["resources"][self.variants[vid].mode])


def check_data_source(config: dict) -> None:
    """Refuse, before any job runs, tasks the configured source cannot provide."""
    data, tasks = config["data"], config["tasks"]
    for task in tasks:
        get_task(task)
    if data["source"] == "synthetic" and "WNLI" in tasks:
        raise BamError("tasks: the synthetic suite's WNLI is never trained on (the paper excludes it too); remove it")
    if data["source"] == "glue_tsv":
        root = Path(data["glue_tsv_dir"])
        if not root.is_dir():
            raise BamError(f"data.glue_tsv_dir: {root} is not a directory")
        needed = list(tasks) + [t for t in evaluation_tasks(tasks) + ["WNLI"] if t not in tasks]
        missing = [f"{t} ({folder_name(t)}/)" if folder_name(t) != t else t for t in needed
                   if not (root / folder_name(t)).is_dir()]
        if missing:
            raise BamError(f"data.glue_tsv_dir: {root} has no folder for task(s) {', '.join(missing)}")
