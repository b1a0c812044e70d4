"""Stages that do not train never import torch or transformers: the demo runs dozens of small jobs, and
starting a process that imports them costs seconds each. Checked in a fresh interpreter, since an import
anywhere in the test run would hide one."""

import subprocess
import sys

from bam_core.cli import STAGES

TRAINING = {"train", "calibrate"}  # the stages that run the model


def fresh_python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_stages_that_do_not_train_import_no_torch():
    modules = sorted({m.partition(":")[0] for s, (m, _) in STAGES.items() if s not in TRAINING})
    assert "bam_core.method.teachers" in modules and "bam_core.reporting.stats" in modules
    # imported one after another: the first module that pulls torch in is the one named
    code = ("import importlib, sys\nfor m in %r:\n    importlib.import_module(m)\n"
            "    heavy = [h for h in ('torch', 'transformers') if h in sys.modules]\n"
            "    if heavy:\n        print(m, *heavy)\n        break" % modules)
    assert fresh_python(code) == ""


def test_training_metrics_do_not_import_scipy_stats():
    assert fresh_python("import sys, bam_core.method.metrics; print('scipy.stats' in sys.modules)") == "False"


# ---- config refusals: what statistics and tables would refuse after training, refused at start ----------

import copy  # noqa: E402

import pytest  # noqa: E402
import yaml  # noqa: E402

from bam_core.errors import BamError  # noqa: E402
from bam_core.reporting.report_settings import check_plan  # noqa: E402
from tests.test_config import plan_of  # noqa: E402
from tests.workspace import REPO, make_workspace, snakemake  # noqa: E402

MINI = yaml.safe_load((REPO / "tests/configs/mini.yaml").read_text())
RTE_MNLI = {"single": {"label": "Single", "mode": "single", "tasks": ["RTE"]},
            "multi": {"label": "Multi", "mode": "multi"},
            "single-multi": {"label": "Single→Multi", "mode": "multi", "teacher": "single", "tasks": ["RTE"]},
            "mnli-only": {"mode": "multi", "tasks": ["MNLI"]}}


def rte_mnli(tables=None, **changes) -> dict:
    """The new user's experiment: RTE and MNLI, Single on RTE only; `tables` as written (None: the defaults)."""
    config = copy.deepcopy(MINI)
    config.update(tasks=["RTE", "MNLI"], variants=copy.deepcopy(RTE_MNLI), submission_variant="multi", **changes)
    config.pop("tables")
    if tables is not None:
        config["tables"] = tables
    return config


def refusal(config) -> str:
    with pytest.raises(BamError) as info:
        plan_of(config)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_table1_with_a_variant_not_trained_on_every_task_is_refused():
    # stats would say, after every run: "scores: no scores for variant 'single' on task 'MNLI' (needed by table1)"
    assert refusal(rte_mnli({"table1": {"variants": ["single", "multi"], "baselines": ["single", "multi"]}})) == (
        "tables.table1.variants: variant 'single' is trained on RTE only, so it has no score on MNLI, a column of "
        "the table (RTE, MNLI): add MNLI to variants.single.tasks or leave it out of tables.table1")
    # a baseline the user wrote, beside variants that all cover both tasks
    config = rte_mnli({"table1": {"variants": ["multi", "single-multi"], "baselines": ["multi"]}})
    assert refusal(config).startswith("tables.table1.variants: variant 'single-multi' is trained on RTE only")


@pytest.mark.parametrize("table, written, key, variant", [
    ("table3", {"pairs": [["single-multi", "multi"]]}, "pairs", "single-multi"),
    ("table4", {"reference": "single-multi", "variants": ["multi"]}, "reference", "single-multi"),
    ("table4", {"reference": "multi", "variants": ["mnli-only"]}, "variants", "mnli-only"),
    ("table4", {"reference": "multi", "variants": [], "two_sided": ["single"]}, "two_sided", "single"),
    ("extensions", {"variants": ["multi", "mnli-only"], "baselines": ["multi"]}, "variants", "mnli-only"),
])
def test_every_table_with_a_column_per_task_refuses_a_partial_variant(table, written, key, variant):
    tasks = ", ".join(RTE_MNLI[variant]["tasks"])
    missing = "MNLI" if tasks == "RTE" else "RTE"
    assert refusal(rte_mnli({table: written})) == (
        f"tables.{table}.{key}: variant {variant!r} is trained on {tasks} only, so it has no score on {missing}, "
        f"a column of the table (RTE, MNLI): add {missing} to variants.{variant}.tasks or leave it out of "
        f"tables.{table}")


def test_table5_needs_only_its_task():
    assert refusal(rte_mnli({"table5": {"task": "RTE", "variants": ["single", "mnli-only"]}})) == (
        "tables.table5.variants: variant 'mnli-only' is trained on MNLI only, so it has no score on RTE, a column "
        "of the table (RTE): add RTE to variants.mnli-only.tasks or leave it out of tables.table5")
    plan = plan_of(rte_mnli({"table5": {"task": "RTE", "variants": ["single", "single-multi", "multi"]}}))
    assert plan.table_choice.tables["table5"] == {"task": "RTE", "variants": ["single", "single-multi", "multi"]}


def test_default_tables_drop_a_partial_variant_and_say_why():
    choice = plan_of(rte_mnli()).table_choice  # Table 1's defaults: of five, only Multi has both columns
    assert "table1" not in choice.tables
    assert choice.left_out["table1"] == (
        "fewer than two of its variants (single, multi, single-single, multi-multi, single-multi) are in the "
        "config (single, single-multi: not trained on every task of the table)")
    config = rte_mnli()
    config["variants"]["multi-multi"] = {"mode": "multi", "teacher": "multi"}  # two rows, but Single is a baseline
    assert plan_of(config).table_choice.left_out["table1"] == "its baseline 'single' is not trained on MNLI"


@pytest.mark.parametrize("levels", [[0.01, 0.05], []])
def test_star_levels_the_tables_cannot_read_are_refused(levels):
    # report-settings would refuse the first after training; Table 5 would fail on the second (levels[0])
    assert refusal(rte_mnli(statistics={"levels": levels})) == (
        "statistics.levels: one star per level passed, so at least one level, in decreasing order "
        f"(e.g. [0.05, 0.01, 0.001]); got {levels}")


SHIPPED = ["config.yaml", "tests/configs/mini.yaml", "tests/configs/slurm_demo.yaml",
           *sorted(str(p.relative_to(REPO)) for p in (REPO / "workflow/configs").glob("*.yaml"))]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_configs_pass_every_reporting_check(name):
    config = yaml.safe_load((REPO / name).read_text())
    data = config.get("data", {})
    if data.get("source") == "glue_tsv" and not (REPO / data["glue_tsv_dir"]).is_dir():
        pytest.skip(f"{name} reads GLUE TSVs from {data['glue_tsv_dir']}, absent here")
    check_plan(plan_of(config))


def test_snakemake_refuses_the_partial_table1_before_any_job(tmp_path):
    root = make_workspace(tmp_path, config="tests/configs/mini.yaml")
    config = rte_mnli({"table1": {"variants": ["single", "multi"], "baselines": ["single", "multi"]}})
    (root / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    result = snakemake(root, "-n")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "config error: tables.table1.variants: variant 'single' is trained on RTE only, so it has no score on "
        "MNLI, a column of the table (RTE, MNLI): add MNLI to variants.single.tasks or leave it out of "
        "tables.table1")
    assert not (root / "results").exists() and not (root / ".snakemake").exists()
