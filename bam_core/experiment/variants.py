"""The experiment plan: the config's variants expanded into runs, teachers and inits.

A *run* is one (variant, seed, group). Multi-task variants have one group, `all`; single-task variants
have one group per task, or one `all` group whose run trains each task's model one after another
(`training.single_task_jobs: per_seed`). A training job is one run, or every seed of a (variant, group)
one after another (`training.seed_jobs: per_variant`). Single's layer-wise decay is chosen per
task from a grid, so the grid's runs are variants of their own (`single.alpha0.9`), and `single`
itself is materialised from the chosen runs. Everything here is checked before any job runs.

A *teacher* is a variant's runs at one seed, or at several (`teacher_seed: all` or a list: an ensemble,
the mean of their predictions). Only runs that teach predict their training split (`predict_train`), and
only where a student doubles MRPC/STS-B with the order swapped do they also predict the swapped pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bam_core.data.custom_tasks import Declaration, check_task_names
from bam_core.data.glue_tsv import folder_name, test_file_absent
from bam_core.data.tasks import PAPER_TASKS, TASKS, evaluation_tasks, get_task
from bam_core.errors import BamError
from bam_core.experiment.table_choice import choose_tables

SINGLE = "single"  # the variant whose alpha is chosen from the grid; other single-task variants reuse the choice
ALL = "all"


@dataclass(frozen=True)
class Variant:
    id: str
    label: str
    mode: str  # "single" | "multi"
    tasks: tuple[str, ...]
    teacher: str | None
    teacher_seed: str | tuple[int, ...]  # "first" | "same" | "all" | the seeds of an ensemble teacher
    init: str | None
    settings: dict = field(hash=False, compare=False)  # effective training settings of the mode + overrides
    grid_alpha: float | None = None  # set on Single's grid variants
    paper: str | None = None  # the paper's model it reproduces, where its id is not that model's

    @property
    def alpha_from_choice(self) -> bool:
        """Single-task variants take Single's per-task alpha unless they set one themselves."""
        return self.mode == "single" and self.grid_alpha is None and "layerwise_lr_decay" not in self.settings


def grid_variant_id(alpha: float) -> str:
    return f"{SINGLE}.alpha{alpha:g}"


def grid_alpha(variant_id: str) -> float | None:
    """The alpha of a grid variant's id (`single.alpha0.9` -> 0.9); None for any other id."""
    head, _, alpha = variant_id.partition(".alpha")
    return float(alpha) if head == SINGLE and alpha.replace(".", "", 1).isdigit() else None


class Plan:
    """Variants, seeds and runs of one validated config."""

    def __init__(self, config: dict, tables_written: dict | None = None):
        """`tables_written`: the config's `tables` block before the schema's defaults were filled in (None:
        all of it written), so that only the defaults are narrowed to the variants the config has."""
        self.config = config
        self.tasks: tuple[str, ...] = tuple(config["tasks"])
        self.seeds: tuple[int, ...] = tuple(range(config["seeds"]))
        self.per_task_jobs = config["training"]["single_task_jobs"] == "per_task"
        self.seed_jobs = config["training"]["seed_jobs"]
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
        self._check_statistics()
        self.table_choice = choose_tables(config["tables"], tables_written,
                                          {v: self.variants[v].tasks for v in self.reported}, self.tasks)
        self.init_variants = {v.init for v in self.variants.values() if v.init}
        self._teacher_runs = self._find_teacher_runs()

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
                       self._teacher_seed_of(key, raw.get("teacher_seed", training["teacher_seed"])),
                       raw.get("init"), settings, paper=raw.get("paper"))

    def _teacher_seed_of(self, key: str, value) -> str | tuple[int, ...]:
        """first | same | all, or a list of the experiment's seeds (an ensemble teacher)."""
        if isinstance(value, str) and value in ("first", "same", "all"):
            return value
        if not isinstance(value, list) or not value or not all(type(s) is int for s in value):
            raise BamError(f"{key}.teacher_seed: {value!r} is not first, same, all or a list of seeds")
        outside = [s for s in value if s not in self.seeds]
        if outside:
            raise BamError(f"{key}.teacher_seed: seed {outside[0]} is not among the experiment's seeds "
                           f"0..{self.seeds[-1]}")
        if len(set(value)) != len(value):
            raise BamError(f"{key}.teacher_seed: lists a seed twice")
        return tuple(sorted(value))

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
        if self.config["submission_variant"] not in self.variants:
            raise BamError(f"submission_variant: unknown variant {self.config['submission_variant']!r}")

    def _check_statistics(self) -> None:
        """What the schema cannot say of the star levels, which the tables read in order (Table 5: the first)."""
        levels = self.config["statistics"]["levels"]
        if not levels or list(levels) != sorted(levels, reverse=True):
            raise BamError(f"statistics.levels: one star per level passed, so at least one level, in decreasing "
                           f"order (e.g. [0.05, 0.01, 0.001]); got {list(levels)}")

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

    def job_of(self, run: tuple[str, int, str]) -> tuple:
        """The training job a run belongs to: the run itself, or (variant, "seeds", group) with every seed's
        run in it (`training.seed_jobs: per_variant`)."""
        return (run[0], "seeds", run[2]) if self.seed_jobs == "per_variant" else run

    def runs(self, vids=None) -> list[tuple[str, int, str]]:
        vids = self.reported + list(self.grid) if vids is None else vids
        return [(v, s, g) for v in vids for s in self.seeds for g in self.groups(v)]

    def teacher_seeds(self, vid: str, seed: int) -> tuple[int, ...]:
        """The teacher variant's seeds whose runs teach run (vid, seed); more than one: an ensemble."""
        choice = self.variants[vid].teacher_seed
        if choice == "same":
            return (seed,)
        if choice == "first":
            return (self.seeds[0],)
        return self.seeds if choice == "all" else choice

    def teacher_logits(self, vid: str, seed: int) -> str | None:
        """The merged teacher file run (vid, seed) learns from: results/teachers/{teacher}/{seeds}/...,
        seeds joined by '+' (an ensemble's name lists its members, so changing them renames it)."""
        v = self.variants[vid]
        if not v.teacher:
            return None
        key = "+".join(str(s) for s in self.teacher_seeds(vid, seed))
        return f"results/teachers/{v.teacher}/{key}/logits.parquet"

    def _find_teacher_runs(self) -> dict[str, set[int]]:
        """{trained variant: seeds whose runs teach}. Single teaches through its grid runs, all of them
        (the alpha choice is made after training)."""
        runs: dict[str, set[int]] = {}
        for v in self.variants.values():
            if v.teacher:
                for teacher in self._trained_as(v.teacher):
                    seeds = {s for seed in self.seeds for s in self.teacher_seeds(v.id, seed)}
                    runs.setdefault(teacher, set()).update(seeds)
        return runs

    def _trained_as(self, vid: str) -> tuple[str, ...]:
        return self.grid if vid == SINGLE and self.grid else (vid,)

    def predict_train(self, vid: str, seed: int) -> bool:
        """Whether run (vid, seed) teaches, so must predict its training split."""
        return seed in self._teacher_runs.get(vid, ())

    def predict_swapped(self, vid: str, seed: int) -> bool:
        """A teaching run also predicts its sentence-order-free pairs (MRPC, STS-B) swapped where a student
        of its variant doubles them (`double_unordered`), so each swapped copy gets its own target. Per
        variant, not per seed: an ensemble's members then hold the same rows."""
        if not self.predict_train(vid, seed):
            return False
        taught = [v for v in self.variants.values() if v.teacher and vid in self._trained_as(v.teacher)]
        return any(v.settings.get("double_unordered") for v in taught)

    def train_split_predictions(self, only_teachers: bool = True) -> int:
        """Forward passes over a task's training split, counted (run, task) over every trained run:
        what `predict_train` saves (only_teachers=False: every run predicting train, as before)."""
        return sum(len(self.group_tasks(v, g)) for v, s, g in self.runs(self.trained)
                   if not only_teachers or self.predict_train(v, s))

    def encoder_init(self, vid: str, seed: int, encoder_dir: str) -> dict:
        v = self.variants[vid]
        if v.init:
            return {"kind": "checkpoint", "path": f"results/runs/{v.init}/{seed}/{ALL}/model"}
        encoder = self.config["encoder"]
        if encoder["pretrained"]:
            return {"kind": "pretrained", "path": encoder["pretrained"]}
        if encoder["demo"].get("pretrain_steps", 0):  # the demo encoder, MLM-pretrained by bam demo-encoder
            return {"kind": "pretrained", "path": encoder_dir}
        return {"kind": "config", "path": encoder_dir}

    def spec_settings(self, vid: str, seed: int, group: str, encoder_dir: str, tokens_dir: str) -> dict:
        """Everything a run's results depend on except Single's alpha choice (filled in by `bam train
        --alpha-choice`); how it executes is in execution_settings."""
        v = self.variants[vid]
        training = self.config["training"]
        spec = {
            "name": f"{vid} seed {seed} group {group}",
            "mode": v.mode,
            "tasks": self.group_tasks(vid, group),
            "eval_tasks": evaluation_tasks(self.group_tasks(vid, group)),
            "tokens_dir": tokens_dir,
            "init": self.encoder_init(vid, seed, encoder_dir),
            "teacher_logits": self.teacher_logits(vid, seed),
            "predict_train": self.predict_train(vid, seed),
            "predict_swapped": self.predict_swapped(vid, seed),
            **v.settings,
            "max_seq_length": self.config["max_seq_length"],
            "seed": seed,
            "device": training["device"],
            "precision": training["precision"],
            "output_dir": f"results/runs/{vid}/{seed}/{group}",
            "resume_dir": f"results/checkpoints/{vid}/{seed}/{group}",
            "save_model": vid in self.init_variants,
        }
        if v.alpha_from_choice and not self.grid:
            spec["layerwise_lr_decay"] = training["single"]["layerwise_lr_decay"]
        return spec

    def execution_settings(self) -> dict:
        """What `bam train` takes besides the specs (method.spec.EXECUTION_KEYS): how the runs execute. Kept
        out of spec_settings, so that checkpointing more often or changing threads reruns nothing."""
        return {key: self.config["training"][key] for key in ("checkpoint_every", "checkpoint_minutes", "num_threads")}

    def needs_alpha_choice(self, vid: str) -> bool:
        return self.variants[vid].alpha_from_choice and bool(self.grid)

    @property
    def glue_tasks(self) -> list[str]:
        """The experiment's GLUE tasks (the others are declared in custom_tasks)."""
        return [t for t in self.tasks if t in TASKS]

    @property
    def data_tasks(self) -> list[str]:
        """Every task prepared: the trained ones, their evaluation sets, and WNLI (for the submission, which an
        experiment without a GLUE task does not have)."""
        extra = evaluation_tasks(self.tasks) + (["WNLI"] if self.glue_tasks else [])
        return list(self.tasks) + [t for t in extra if t not in self.tasks]

    @property
    def submission_complete(self) -> bool:
        """Whether the submission variant has every task the GLUE leaderboard wants and the data source every
        test file (a GLUE TSV directory may lack MNLI's): else the submission step names the rest, and no zip."""
        return (set(PAPER_TASKS) <= set(self.variants[self.config["submission_variant"]].tasks)
                and not absent_test_files(self.config))

    @property
    def curve_variant(self) -> str:
        """Whose lambda/loss curve the figures draw: Single->Multi where the config has it."""
        return "single-multi" if "single-multi" in self.variants else self.config["submission_variant"]

    def report_settings(self, with_statistics: bool) -> dict:
        """Settings of the reporting steps; figures get no statistics or tables, only the variant order the
        tables' lists imply, so a statistics setting, or a table setting that keeps that order, reruns only
        statistics and tables."""
        settings = {
            "variants": {v: self._reported_variant(self.variants[v]) for v in self.reported},
            "tasks": list(self.tasks),
            "source": self.config["data"]["source"],
        }
        if not with_statistics:  # the figures' variant order: the tables' (the paper's), then the rest
            settings["order"] = self.figure_order()
        else:
            tables = {name: dict(t) for name, t in self.table_choice.tables.items()}
            if "table5" in tables:
                tables["table5"]["training_tasks"] = {v: self.trained_on(v, tables["table5"]["task"])
                                                      for v in tables["table5"]["variants"]}
            settings.update(statistics=self.config["statistics"], tables=tables,
                            tables_left_out=self.table_choice.left_out)
        return settings

    @staticmethod
    def _reported_variant(v: Variant) -> dict:
        """What the reporting steps know of a variant (`paper` only where set, so that other configs'
        settings, and so their reports, are unchanged by it)."""
        return {"label": v.label, "tasks": list(v.tasks), **({"paper": v.paper} if v.paper else {})}

    def figure_order(self) -> list[str]:
        """Variants in the order the tables list them (the paper's), then the others by id: taken from
        lists, never from the config's key order, so reordering keys redraws nothing."""
        listed = []
        for table in self.table_choice.tables.values():
            for key in ("variants", "baselines", "pairs", "reference", "two_sided"):
                value = table.get(key, [])
                value = [value] if isinstance(value, str) else value
                listed += [v for item in value for v in (item if isinstance(item, list) else [item])]
        return list(dict.fromkeys(listed + sorted(self.reported)))

    def trained_on(self, vid: str, task: str) -> list[str]:
        """The tasks behind a variant's score on `task`: that task alone for a single-task variant."""
        variant = self.variants[vid]
        return [task] if variant.mode == "single" else list(variant.tasks)

    def resources(self, vid: str) -> dict:
        return dict(self.config["training"]["resources"][self.variants[vid].mode])


def absent_test_files(config: dict) -> list[str]:
    """The leaderboard's tasks whose test file the configured GLUE TSV directory lacks (none for other sources)."""
    data = config["data"]
    if data["source"] != "glue_tsv" or not Path(data["glue_tsv_dir"]).is_dir():
        return []
    wanted = [*PAPER_TASKS, "MNLI-mm", "AX", "WNLI"]  # test_file_absent: False for a task folder not there
    return [t for t in wanted if test_file_absent(get_task(t), data["glue_tsv_dir"])]


def check_data_source(config: dict) -> dict[str, Declaration]:
    """Refuse, before any job runs, tasks the configured source cannot provide; returns the declared tasks (their
    files are checked by bam_core.data.task_files.check_declared_files)."""
    declared = check_task_names(config)
    data, tasks = config["data"], [t for t in config["tasks"] if t not in declared]
    if data["source"] == "synthetic" and "WNLI" in tasks:
        raise BamError("tasks: the synthetic suite's WNLI is never trained on (the paper excludes it too); remove it")
    if data["source"] == "glue_tsv":
        root = Path(data["glue_tsv_dir"])
        if not root.is_dir():
            raise BamError(f"data.glue_tsv_dir: {root} is not a directory")
        needed = list(tasks) + [t for t in evaluation_tasks(tasks) + ["WNLI"] if t not in tasks] if tasks else []
        missing = [f"{t} ({folder_name(t)}/)" if folder_name(t) != t else t for t in needed
                   if not (root / folder_name(t)).is_dir()]
        if missing:
            raise BamError(f"data.glue_tsv_dir: {root} has no folder for task(s) {', '.join(missing)}")
    return declared
