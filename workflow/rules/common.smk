# Config validation, the run table expanded from the variants, and the rules' input functions.
# All decisions live in bam_core (variants.py, config.py); this file only adapts them to Snakemake.

import copy
import json
import os
import re
import sys

from snakemake.utils import validate

from bam_core.experiment.cluster import (
    check_workflow_profile,
    train_job_mem_mb,
    train_job_runtime,
)
from bam_core.experiment.code_version import code_fingerprint
from bam_core.experiment.config import check_config
from bam_core.experiment.schedule import scheduling_priority
from bam_core.data.custom_tasks import TASKS_ENV, definition_json, to_json
from bam_core.data.task_files import check_declared_files
from bam_core.data.tasks import evaluation_tasks, get_task
from bam_core.errors import BamError
from bam_core.experiment.table_choice import left_out_note
from bam_core.experiment.variants import ALL, SINGLE, Plan, check_data_source
from bam_core.reporting.estimate import Estimate, calibration_spec
from bam_core.reporting.report_settings import check_plan as check_report_settings

SCHEMA = "../schemas/config.schema.yaml"
CONDA_ENV = "../envs/bam.yaml"

try:
    check_config(config, workflow.source_path(SCHEMA))
    # The tables as written, before validate() fills in defaults that may name absent variants.
    TABLES_WRITTEN = copy.deepcopy(config.get("tables", {}))
    validate(config, SCHEMA, set_default=True)
    DECLARED = check_data_source(config)
    check_declared_files(DECLARED)
    PLAN = Plan(config, TABLES_WRITTEN)
    check_report_settings(PLAN)
except BamError as err:
    sys.exit(f"config error: {err}")

# The declared tasks reach every job's `bam` command through the environment (bam_core.data.custom_tasks
# says why): local jobs inherit it, and a SLURM job reads this file again.
os.environ[TASKS_ENV] = to_json(DECLARED)

TASKS = list(PLAN.tasks)
# TASKS, their evaluation sets (MNLI-mm, AX) and WNLI for the submission
DATA_TASKS = PLAN.data_tasks
TRAIN_GPUS = max(r["gpu"] for r in config["training"]["resources"].values())
ENCODER = config["encoder"]["name"]
DEMO_ENCODER = config["encoder"]["pretrained"] is None
ENCODER_DIR = f"results/encoders/{ENCODER}"
TOKENS_DIR = f"results/tokens/{ENCODER}"
RUN_FILES = ["metrics.json", "predictions.parquet", "logits.parquet"]
TABLES_REPORTED = list(PLAN.table_choice.tables)
PAPER_TABLES = [t for t in TABLES_REPORTED if t != "extensions"]
EXTENSION_TABLES = [t for t in TABLES_REPORTED if t == "extensions"]
SPLITS = ["train", "dev", "test"]


onstart:
    # On SLURM, a profile without a partition or a GPU asked of a partition without one is refused
    # before anything is submitted (the executor is known only now, not while parsing).
    try:
        check_workflow_profile(
            workflow,
            {"train": {"gpu": TRAIN_GPUS}, "calibrate": {"gpu": TRAIN_GPUS}},
        )
    except BamError as err:
        sys.exit(f"profile error: {err}")


def _alternatives(names):
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


wildcard_constraints:
    task=_alternatives(DATA_TASKS),
    seed=r"\d+",
    teacher_seeds=r"\d+(\+\d+)*",
    group=_alternatives(TASKS + [ALL]),
    variant=_alternatives(PLAN.variants),
    table=_alternatives(TABLES_REPORTED),
    kind="stats|figures",
    mode="single|multi",


def final_outputs():
    """The targets of the default run: scores, tables (LaTeX and Markdown), figures, submission files (and
    the server's zip when the experiment has every GLUE task) and the cost table."""
    return [
        "results/scores.parquet",
        "results/tables/all_tables.tex",
        "results/tables/tables.md",
        "results/tables/paper_vs_run.tex",
        "results/tables/cost.tex",
        "results/figures/training_curve.png",
        "results/submission",
    ] + (["results/submission.zip"] if PLAN.submission_complete else [])


def output_dir(wildcards, output):
    """The folder of a rule's first output, for commands that take a folder."""
    return os.path.dirname(output[0])


# -- data ---------------------------------------------------------------------------------------


def prepare_source(wildcards):
    """`declared` for a task of custom_tasks, else the config's GLUE source."""
    return "declared" if wildcards.task in DECLARED else config["data"]["source"]


PREPARE_CODE = {
    source: code_fingerprint("prepare", source)
    for source in {config["data"]["source"]} | ({"declared"} if DECLARED else set())
}


def prepare_code(wildcards):
    """The code the task's preparation runs: its source's reader only."""
    return PREPARE_CODE[prepare_source(wildcards)]


def declared_files(wildcards):
    """A declared task's files: editing one reruns its preparation (nothing for GLUE's)."""
    declared = DECLARED.get(wildcards.task)
    return list(declared.files.values()) if declared else []


def task_definition(wildcards):
    """A declared task's definition (columns, labels, metric, files): editing it reruns its preparation."""
    declared = DECLARED.get(wildcards.task)
    return definition_json(declared) if declared else ""


def averaged_tasks():
    """The tasks in the Avg column (in_average): changing one reruns the scores and what reads them."""
    return [t for t in TASKS if get_task(t).in_average]


def prepare_options(wildcards):
    """The source's command-line options for `bam prepare`, and the task's training-set cap if it has one."""
    data = config["data"]
    if wildcards.task in DECLARED:
        options = ""
    elif data["source"] == "synthetic":
        synthetic = data["synthetic"]
        options = " ".join(f"--synthetic-{k.replace('_', '-')} {synthetic[k]}" for k in sorted(synthetic))
    elif data["source"] == "glue_tsv":
        options = f"--glue-dir {data['glue_tsv_dir']}"
    else:
        options = f"--hub {data['hub']}"
    cap = data["max_train_examples"].get(wildcards.task)
    if cap is not None:
        options += (
            f" --max-train-examples {cap} --subsample-seed {data['subsample_seed']}"
        )
    return options


def demo_encoder_options():
    """The demo BertConfig's sizes as `bam demo-encoder` options, in a fixed order: params are compared
    as text, so reordering the config's keys must not change them."""
    demo = config["encoder"]["demo"]
    return " ".join(f"--{k.replace('_', '-')} {demo[k]}" for k in sorted(demo))


def tokenizer_input(wildcards):
    """The demo encoder's directory when we build it; nothing for a pretrained encoder."""
    return ENCODER_DIR if DEMO_ENCODER else []


def tokenizer_name():
    return ENCODER_DIR if DEMO_ENCODER else config["encoder"]["pretrained"]


# -- training -----------------------------------------------------------------------------------


def run_dir(variant, seed, group):
    return f"results/runs/{variant}/{seed}/{group}"


def run_files(variant, seed, name="metrics.json"):
    """One file of every run of a variant at one seed."""
    return [f"{run_dir(variant, seed, g)}/{name}" for g in PLAN.groups(variant)]


# A training job: one seed's run, or every seed's (one process pays torch's start-up once).
PER_VARIANT_JOBS = PLAN.seed_jobs == "per_variant"
TRAIN_JOB = "{variant}/seeds/{group}" if PER_VARIANT_JOBS else "{variant}/{seed}/{group}"


def train_outputs(name):
    """One file of the job's runs: a pattern with {seed}, or the list over every seed."""
    if PER_VARIANT_JOBS:
        return [f"results/runs/{{variant}}/{s}/{{group}}/{name}" for s in PLAN.seeds]
    return f"results/runs/{{variant}}/{{seed}}/{{group}}/{name}"


def job_seeds(wildcards):
    return [int(wildcards.seed)] if "seed" in wildcards.keys() else list(PLAN.seeds)


def spec_settings(wildcards):
    """The effective settings of the job's runs, as JSON, one per seed: the params that decide whether it reruns."""
    return [
        json.dumps(
            PLAN.spec_settings(wildcards.variant, seed, wildcards.group, ENCODER_DIR, TOKENS_DIR),
            sort_keys=True,
        )
        for seed in job_seeds(wildcards)
    ]


def alpha_choice_option(wildcards, input):
    """Single-task runs that take Single's per-task alpha read it from the choice file at run time."""
    return f"--alpha-choice {input.alpha}" if "alpha" in input.keys() else ""


def train_inputs(wildcards):
    """Tokens of the runs' tasks, their teachers' logits, and the runs that initialise them."""
    variant, seeds = PLAN.variants[wildcards.variant], job_seeds(wildcards)
    tasks = PLAN.group_tasks(wildcards.variant, wildcards.group)
    inputs = {
        "tokens": [
            f"{TOKENS_DIR}/{t}/{s}.parquet"
            for t in tasks + evaluation_tasks(tasks)
            for s in ("train", "dev", "test")
        ],
    }
    if DEMO_ENCODER and variant.init is None:
        inputs["encoder"] = ENCODER_DIR
    if variant.teacher:  # one file per teacher; seeds may share it (teacher_seed: first)
        inputs["teacher"] = sorted({PLAN.teacher_logits(variant.id, s) for s in seeds})
    if variant.init:
        inputs["init"] = [f"{run_dir(variant.init, s, ALL)}/metrics.json" for s in seeds]
    if PLAN.needs_alpha_choice(variant.id):
        inputs["alpha"] = "results/alpha_choice.json"
    return inputs


def train_priority(wildcards):
    return scheduling_priority(PLAN, wildcards.variant)


# Short jobs that unblock training (alpha choice, Single's selection, teacher logits) go before any training job.
UNBLOCKING = 1000


# How training jobs execute (checkpoint cadence, torch threads): passed as resources, which Snakemake
# does not compare, so that changing them reruns nothing; the specs in params decide reruns. Resources are
# integers: null becomes 0, which `bam train` reads as "steps only" / "torch's default threads".
EXECUTION = {key: value or 0 for key, value in PLAN.execution_settings().items()}


def _train_resource(wildcards, key):
    return PLAN.resources(wildcards.variant)[key]


def train_gpu(wildcards):
    return _train_resource(wildcards, "gpu")


def train_cpus(wildcards):
    return _train_resource(wildcards, "cpus_per_task")


def train_mem_mb(wildcards, attempt):
    """A job killed for memory comes back with more (the checkpoint makes the retry a resume)."""
    return train_job_mem_mb(PLAN, wildcards.variant, attempt)


def train_runtime(wildcards, attempt):
    """From the estimate when one matches the config, else fixed; more on each retry (bam_core's cluster)."""
    return train_job_runtime(
        PLAN,
        ESTIMATE,
        wildcards.variant,
        job_seeds(wildcards),
        wildcards.group,
        SAFETY_FACTOR,
        attempt,
    )


def grid_metrics(wildcards):
    """Every run of Single's alpha grid, all seeds."""
    return [f for g in PLAN.grid for s in PLAN.seeds for f in run_files(g, s)]


def grid_run_dirs(wildcards):
    return [run_dir(g, wildcards.seed, wildcards.group) for g in PLAN.grid]


def grid_run_files(wildcards):
    return [f"{d}/{name}" for d in grid_run_dirs(wildcards) for name in RUN_FILES]


def teacher_members(wildcards):
    """The logits files of each seed's runs: one member, or several whose mean is an ensemble teacher."""
    seeds = [int(s) for s in wildcards.teacher_seeds.split("+")]
    return [run_files(wildcards.variant, s, "logits.parquet") for s in seeds]


def teacher_logits_inputs(wildcards):
    return [f for member in teacher_members(wildcards) for f in member]


def teacher_member_options(wildcards):
    return " ".join("--member " + " ".join(m) for m in teacher_members(wildcards))


def all_reported_metrics(wildcards):
    """The metrics of every run whose scores go into scores.parquet."""
    return [f for v in PLAN.reported for s in PLAN.seeds for f in run_files(v, s)]


def trained_metrics(wildcards):
    """Metrics of every run that trained (Single's selection is counted through its grid)."""
    return [f for v in PLAN.trained for s in PLAN.seeds for f in run_files(v, s)]


# -- the cost estimate -------------------------------------------------------------------------
# Read while the DAG is built, so train_runtime can use it: `snakemake estimate` must come first.

CALIBRATION_SPECS = {
    m: spec
    for m in ("single", "multi")
    if (spec := calibration_spec(PLAN, m, ENCODER_DIR, TOKENS_DIR)) is not None
}
CALIBRATIONS = [f"results/estimate/calibration/{m}.json" for m in CALIBRATION_SPECS]
ESTIMATE = Estimate(PLAN, ENCODER_DIR, TOKENS_DIR, CALIBRATIONS)
SAFETY_FACTOR = config["training"]["estimate"]["safety_factor"]
if ESTIMATE.stale:
    print(
        f"note: {', '.join(ESTIMATE.stale)} measured another config; fixed runtimes are used"
        " until `snakemake estimate` measures this one",
        file=sys.stderr,
    )


def calibration_inputs(wildcards):
    """The tokens a calibration reads, and the demo encoder it builds."""
    tasks = CALIBRATION_SPECS[wildcards.mode]["tasks"]
    inputs = {
        "tokens": [f"{TOKENS_DIR}/{t}/{s}.parquet" for t in tasks for s in SPLITS]
    }
    if DEMO_ENCODER:
        inputs["encoder"] = ENCODER_DIR
    return inputs


def calibration_spec_json(wildcards):
    return json.dumps(CALIBRATION_SPECS[wildcards.mode], sort_keys=True)


def tokens_dir_of_input(wildcards, input):
    """results/tokens/{encoder}, from a tokens file {encoder}/{task}/{split}.parquet among the inputs."""
    return os.path.dirname(os.path.dirname(input.tokens[0]))


def mode_resource(key):
    """A calibration job asks for what its mode's training jobs ask for (it is one, only shorter)."""

    def resource(wildcards):
        value = config["training"]["resources"][wildcards.mode][key]
        return min(value, 60) if key == "runtime" else value

    return resource


def estimate_input(wildcards):
    """The estimate beside measured cost, when one made for this config exists."""
    matched = set(ESTIMATE.calibrations) == set(CALIBRATION_SPECS)
    return {"estimate": "results/estimate/runs.tsv"} if matched else {}


def estimate_option(wildcards, input):
    return f"--estimate {input.estimate}" if "estimate" in input.keys() else ""


# -- reporting ----------------------------------------------------------------------------------


def tables_left_out():
    """The report's line on the tables this config leaves out (empty when it reports all four)."""
    return left_out_note(PLAN.table_choice.left_out)


def report_settings_json(wildcards):
    return json.dumps(
        PLAN.report_settings(with_statistics=wildcards.kind == "stats"), sort_keys=True
    )


def curve_history(wildcards):
    return run_files(PLAN.curve_variant, PLAN.seeds[0], "history.parquet")


def submission_predictions(wildcards):
    variant = config["submission_variant"]
    return [f for s in PLAN.seeds for f in run_files(variant, s, "predictions.parquet")]


def submission_data(wildcards):
    """The test splits the files answer, and WNLI's training labels (its majority class) when the experiment
    has a GLUE task."""
    return [f"results/data/{t}/test.parquet" for t in DATA_TASKS] + [
        f"results/data/{t}/train.parquet" for t in DATA_TASKS if t == "WNLI"
    ]
