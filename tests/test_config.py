"""Bad configs are refused before any job runs, with one line that names the key."""

import copy

import pytest
import yaml
from snakemake.utils import validate

from bam_core.errors import BamError
from bam_core.experiment.config import check_config
from bam_core.experiment.variants import Plan, check_data_source
from tests.workspace import REPO, make_workspace, snakemake

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def demo_config(**changes):
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config.update(changes)
    return config


def plan_of(config):
    check_config(config, SCHEMA)
    config = copy.deepcopy(config)
    validate(config, str(SCHEMA), set_default=True)
    check_data_source(config)
    return Plan(config)


def error_of(config):
    with pytest.raises(BamError) as info:
        plan_of(config)
    return str(info.value)


def test_demo_and_paper_configs_are_valid():
    plan = plan_of(demo_config())
    assert plan.seeds == (0, 1, 2)
    assert plan.grid == ("single.alpha1", "single.alpha0.9")
    paper = yaml.safe_load((REPO / "workflow" / "configs" / "paper.yaml").read_text())
    assert plan_of(paper).seeds == tuple(range(20))


def test_misspelled_key_names_its_path():
    config = demo_config()
    config["training"]["singel"] = {"lr": 1e-4}
    assert error_of(config).startswith("training.singel: unknown key (known keys: checkpoint_every, device,")


def test_wrong_type_names_its_path():
    config = demo_config()
    config["training"]["multi"]["lr"] = "fast"
    assert error_of(config) == "training.multi.lr: 'fast' is not of type 'number'"


def test_unknown_task():
    config = demo_config(tasks=["CoLA", "SST-3"])
    assert error_of(config).startswith("tasks.1: 'SST-3' is not one of ['CoLA', 'SST-2',")


def test_unknown_teacher_variant():
    config = demo_config()
    config["variants"]["single-multi"]["teacher"] = "singel"
    assert error_of(config).startswith("variants.single-multi.teacher: unknown variant 'singel'; known: single,")


def test_teacher_cycle():
    config = demo_config()
    config["variants"]["multi"]["teacher"] = "multi-multi"
    assert error_of(config) == "variants.multi: teacher/init cycle multi -> multi-multi -> multi"


def test_finetuning_init_must_be_multi_task():
    config = demo_config()
    config["variants"]["multi-ft"]["init"] = "single-single"
    assert error_of(config) == (
        "variants.multi-ft.init: 'single-single' is a single-task variant; fine-tuning starts from a multi-task run")


def test_variant_task_outside_the_experiment():
    config = demo_config(tasks=["CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI"])
    assert error_of(config) == (
        "variants.rte-mnli.tasks: task 'RTE' is not among the experiment's tasks "
        "(CoLA, SST-2, MRPC, STS-B, QQP, MNLI, QNLI)")


def test_task_the_source_does_not_have(tmp_path):
    assert error_of(demo_config(tasks=["CoLA", "WNLI"], variants={"multi": {"mode": "multi"}},
                                tables=_tables("multi"), submission_variant="multi")).startswith(
        "tasks: the synthetic suite's WNLI is never trained on")
    (tmp_path / "CoLA").mkdir()
    config = demo_config(tasks=["CoLA", "RTE"], variants={"multi": {"mode": "multi"}},
                         tables=_tables("multi"), submission_variant="multi")
    config["data"] = {"source": "glue_tsv", "glue_tsv_dir": str(tmp_path)}
    # WNLI is always prepared: the submission's WNLI file is its training set's majority class
    assert error_of(config) == f"data.glue_tsv_dir: {tmp_path} has no folder for task(s) RTE, WNLI"
    # MNLI brings its evaluation sets: MNLI-mm from MNLI/, AX from diagnostic/
    (tmp_path / "MNLI").mkdir()
    (tmp_path / "WNLI").mkdir()
    config["tasks"] = ["CoLA", "MNLI"]
    assert error_of(config) == f"data.glue_tsv_dir: {tmp_path} has no folder for task(s) AX (diagnostic/)"


def _tables(v):
    return {"table1": {"variants": [v], "baselines": [v]}, "table3": {"pairs": [[v, v]]},
            "table4": {"reference": v, "variants": [v]}, "table5": {"variants": [v]}}


def test_snakemake_refuses_bad_config_with_one_line(tmp_path):
    root = make_workspace(tmp_path, {"training": {"single": {"lrr": 0.1}}})
    result = snakemake(root, "-n")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(
        "config error: training.single.lrr: unknown key (known keys: adam_epsilon,")
    assert not (root / "results").exists()
