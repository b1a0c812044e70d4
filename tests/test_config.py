"""Bad configs are refused before any job runs, with one line that names the key."""

import copy

import pytest
import yaml
from snakemake.utils import validate

from bam_core.errors import BamError
from bam_core.experiment.config import check_config
from bam_core.experiment.variants import Plan, check_data_source, grid_variant_id
from bam_core.reporting import paper
from tests.workspace import REPO, deep_merge, make_workspace, snakemake

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def demo_config(**changes):
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config.update(changes)
    return config


# The numbers the plan tests' known answers (priorities, spec settings, run counts) were worked out for: the
# demo's at 53185b5, owned here so that retuning config.yaml breaks none of them. config.yaml's own values are
# checked in one place: test_demo_and_paper_configs_are_valid.
TUNING = {
    "seeds": 3,
    "training": {"single_alpha_grid": [0.9],
                 "single": {"lr": 3.0e-3, "batch_size": 16, "epochs": 3, "min_steps": 120},
                 "multi": {"lr": 2.0e-3, "batch_size": 64, "epochs": 4},
                 "finetune": {"lr": 3.0e-4, "epochs": 1, "min_steps": 0}},
}


def tuned_config():
    """The demo's variants and tasks with TUNING's numbers."""
    return deep_merge(demo_config(), TUNING)


def plan_of(config):
    """The plan as common.smk makes it: checked, the tables the user wrote kept aside, defaults filled in."""
    check_config(config, SCHEMA)
    config = copy.deepcopy(config)
    written = copy.deepcopy(config.get("tables", {}))
    validate(config, str(SCHEMA), set_default=True)
    check_data_source(config)
    return Plan(config, written)


def error_of(config):
    with pytest.raises(BamError) as info:
        plan_of(config)
    return str(info.value)


@pytest.mark.parametrize("path", ["config.yaml", "workflow/configs/paper.yaml"])
def test_demo_and_paper_configs_are_valid(path):
    """The one test that reads the shipped configs' numbers: they pass the schema and reach the plan as written
    (whatever they are: retuning one changes no expected value here)."""
    config = yaml.safe_load((REPO / path).read_text())
    plan = plan_of(copy.deepcopy(config))
    training = config["training"]
    assert plan.seeds == tuple(range(config["seeds"]))
    assert plan.grid == tuple(grid_variant_id(a) for a in training["single_alpha_grid"])
    for vid, mode in (("multi", "multi"), ("single-multi", "multi"), ("single-single", "single")):
        spec = plan.spec_settings(vid, 0, "all", "enc", "tok")
        written = {k: v for k, v in training[mode].items() if k in spec}
        assert written and {k: spec[k] for k in written} == written, vid
    ft = plan.spec_settings("multi-ft", 0, "all", "enc", "tok")
    assert {k: ft[k] for k in training["finetune"]} == training["finetune"]


def test_misspelled_key_names_its_path():
    config = demo_config()
    config["training"]["singel"] = {"lr": 1e-4}
    assert error_of(config).startswith("training.singel: unknown key (known keys: checkpoint_every, checkpoint_minutes, device,")


def test_wrong_type_names_its_path():
    config = demo_config()
    config["training"]["multi"]["lr"] = "fast"
    assert error_of(config) == "training.multi.lr: 'fast' is not of type 'number'"


def test_optimiser_defaults_are_the_reference_and_a_variant_may_change_them():
    config = demo_config()
    for mode in ("single", "multi"):  # the demo sets torch's Adam per mode; the schema's defaults are the reference's
        config["training"][mode].pop("adam_bias_correction")
    config["variants"]["multi"]["settings"] = {"adam_bias_correction": True, "lr_schedule": "warmup_linear_decay"}
    plan = plan_of(config)
    single, multi = plan.variants["single"].settings, plan.variants["multi"].settings
    assert (single["adam_bias_correction"], single["lr_schedule"]) == (False, "reference")
    assert (multi["adam_bias_correction"], multi["lr_schedule"]) == (True, "warmup_linear_decay")
    config["variants"]["multi"]["settings"] = {"lr_schedule": "cosine"}
    assert error_of(config) == \
        "variants.multi.settings.lr_schedule: 'cosine' is not one of ['reference', 'warmup_linear_decay']"


def test_unknown_task():
    config = demo_config(tasks=["CoLA", "SST-3"])
    assert error_of(config) == ("tasks.1: 'SST-3' is neither a GLUE task (CoLA, SST-2, MRPC, STS-B, QQP, MNLI, QNLI, "
                                "RTE, WNLI) nor declared under custom_tasks")


def test_unknown_teacher_variant():
    config = demo_config()
    config["variants"]["single-multi"]["teacher"] = "singel"
    assert error_of(config).startswith("variants.single-multi.teacher: unknown variant 'singel'; known: single,")


def test_teacher_cycle():
    config = demo_config()
    config["variants"]["multi"]["teacher"] = "multi-multi"
    assert error_of(config) == "variants.multi: teacher/init cycle multi -> multi-multi -> multi"


def with_ensemble(config: dict) -> dict:
    """The demo config with paper.yaml's extension: Single (ensemble)->Multi and its table."""
    config["variants"]["single-ensemble-multi"] = {"label": "Single (ensemble)→Multi", "mode": "multi",
                                                   "teacher": "single", "teacher_seed": "all"}
    config["tables"]["extensions"] = {"variants": ["single", "multi", "single-ensemble-multi"]}
    return config


@pytest.mark.parametrize("value, message", [
    ([0, 7], "variants.single-ensemble-multi.teacher_seed: seed 7 is not among the experiment's seeds 0..2"),
    ("bogus", "variants.single-ensemble-multi.teacher_seed: 'bogus' is not one of ['first', 'same', 'all']"),
    ([], "variants.single-ensemble-multi.teacher_seed: [] should be non-empty"),
])
def test_bad_teacher_seed_names_variant_and_key(value, message):
    config = with_ensemble(tuned_config())  # seeds 0..2
    config["variants"]["single-ensemble-multi"]["teacher_seed"] = value
    assert error_of(config) == message


def test_paper_key_is_a_model_of_the_paper():
    config = demo_config()
    config["variants"]["multi"]["paper"] = "mluti"
    assert error_of(config).startswith("variants.multi.paper: 'mluti' is not one of ['single', 'multi', ")


def test_schema_lists_the_papers_models():
    schema = yaml.safe_load(SCHEMA.read_text())
    variant = schema["properties"]["variants"]["additionalProperties"]["properties"]
    assert variant["paper"]["enum"] == list(paper.MODELS)


def test_extensions_table_names_unknown_variants():
    config = with_ensemble(demo_config())
    config["tables"]["extensions"]["variants"] = ["single", "multi", "single-ensembel-multi"]
    assert error_of(config) == "tables.extensions.variants: unknown variant 'single-ensembel-multi'"


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


PROFILE_LINE = "Using workflow specific profile profiles/default for setting default command line arguments."


def test_snakemake_refuses_bad_config_with_one_line(tmp_path):
    root = make_workspace(tmp_path, {"training": {"single": {"lrr": 0.1}}})
    result = snakemake(root, "-n")
    assert result.returncode == 1
    # the whole of stderr (Snakemake's line naming the profile, then ours): a traceback would fail here
    profile, error = result.stderr.splitlines()
    assert profile == PROFILE_LINE and result.stderr.endswith("\n")
    assert error.startswith(
        "config error: training.single.lrr: unknown key (known keys: adam_bias_correction, adam_epsilon,")
    assert not (root / "results").exists()


THREE_VARIANTS = {"single": {"label": "Single", "mode": "single"}, "multi": {"label": "Multi", "mode": "multi"},
                  "single-multi": {"label": "Single→Multi", "mode": "multi", "teacher": "single"}}


def three_variant_config(**changes):
    config = demo_config(**{"variants": THREE_VARIANTS, **changes})
    if "tables" not in changes:
        del config["tables"]
    return config


def test_tables_of_a_config_that_does_not_mention_them():
    choice = plan_of(three_variant_config()).table_choice
    assert choice.tables == {"table1": {"variants": ["single", "multi", "single-multi"],
                                        "baselines": ["single", "multi"]}}
    assert choice.left_out == {
        "table3": "none of its pairs (multi-ft vs multi, single-multi-ft vs single-multi) has both variants "
                  "in the config",
        "table4": "none of its variants (ablation-no-layerwise-lr, ablation-no-task-sampling, ablation-lambda-0, "
                  "ablation-lambda-0.5) is in the config",
        "table5": "fewer than two of its variants (single-single, rte-mnli, rte-qqp-cola-sst2, single-multi) "
                  "are in the config",
    }


def test_default_table_without_its_reference_or_baseline_is_left_out():
    no_reference = dict(THREE_VARIANTS, **{"ablation-lambda-0": {"mode": "multi", "teacher": "single"}})
    del no_reference["single-multi"]
    choice = plan_of(three_variant_config(variants=no_reference, submission_variant="multi")).table_choice
    assert choice.left_out["table4"] == "its reference 'single-multi' is not a variant of the config"
    assert choice.tables["table1"] == {"variants": ["single", "multi"], "baselines": ["single", "multi"]}
    no_baseline = {k: v for k, v in THREE_VARIANTS.items() if k != "multi"}
    choice = plan_of(three_variant_config(variants=no_baseline)).table_choice
    assert choice.left_out["table1"] == "its baseline 'multi' is not a variant of the config"


def test_tables_the_user_wrote_are_checked_strictly():
    assert error_of(three_variant_config(tables={"table3": {"pairs": [["multi-ft", "multi"]]}})) == (
        "tables.table3.pairs: unknown variant 'multi-ft'")
    assert error_of(three_variant_config(tables={"table1": {"baselines": ["single", "multi-multi"]}})) == (
        "tables.table1.baselines: unknown variant 'multi-multi'")
    # a table the user asked for is built or refused, never left out
    assert error_of(three_variant_config(tables={"table5": {"task": "RTE"}})) == (
        "tables.table5: fewer than two of its variants (single-single, rte-mnli, rte-qqp-cola-sst2, single-multi) "
        "are in the config")
    choice = plan_of(three_variant_config(tables={"table4": {"variants": ["multi"]}})).table_choice
    assert choice.tables["table4"] == {"reference": "single-multi", "variants": ["multi"], "two_sided": []}
    empty = {"table3": {"pairs": []}, "table4": {"reference": "single-multi", "variants": []}}
    choice = plan_of(three_variant_config(tables=empty)).table_choice  # as tests/configs/slurm_demo.yaml has them
    assert (choice.tables["table3"], choice.tables["table4"]) == ({"pairs": []}, {**empty["table4"], "two_sided": []})
