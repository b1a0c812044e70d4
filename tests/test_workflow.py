"""The DAG end to end on a reduced demo, then what each kind of change reruns (dry runs).

One real run of tests/configs/mini.yaml (three tasks, two seeds, six variants) in a throwaway
workspace; every invalidation test then edits the workspace, asks `snakemake -n` what it would rerun,
and puts the edit back.
"""

import shutil

import pandas as pd
import pytest
import yaml

from tests.workspace import REPO, make_workspace, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.full  # one real run of the mini workflow, then dry runs against it


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = make_workspace(tmp_path_factory.mktemp("mini"), config="tests/configs/mini.yaml")
    shutil.copytree(REPO / "bam_core", root / "bam_core")  # shadows the installed copy for the Snakefile
    result = snakemake(root, "--cores", "2")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return root


def config_of(root):
    return yaml.safe_load((root / "config.yaml").read_text())


def dry_run_after(root, edit):
    """Job counts of a dry run with `edit(config)` applied, then the config put back."""
    original = (root / "config.yaml").read_text()
    config = config_of(root)
    edit(config)
    write_config(root, config)
    try:
        return planned_jobs(root)
    finally:
        (root / "config.yaml").write_text(original)


def test_scores_have_one_row_per_variant_seed_task(workspace):
    scores = pd.read_parquet(workspace / "results" / "scores.parquet")
    variants = ["multi", "multi-ft", "multi-multi", "single", "single-ensemble-multi", "single-multi"]
    assert sorted(scores.variant.unique()) == variants
    assert len(scores) == len(variants) * 2 * 5  # two seeds x (three tasks + MNLI-mm + Avg)
    assert set(scores.task) == {"STS-B", "MNLI", "MNLI-mm", "RTE", "Avg"}
    assert scores.score.notna().all()


def test_submission_of_an_experiment_without_every_task_has_no_zip(workspace):
    sub = workspace / "results" / "submission"
    assert sorted(p.name for p in sub.iterdir() if not p.name.startswith(".")) == [
        "AX.tsv", "MNLI-m.tsv", "MNLI-mm.tsv", "README.txt", "RTE.tsv", "STS-B.tsv", "WNLI.tsv"]
    absent = "".join(f"  {name}.tsv: not trained in this experiment\n"
                     for name in ("CoLA", "SST-2", "MRPC", "QQP", "QNLI"))
    assert (sub / "README.txt").read_text().endswith("\n\nAbsent, so no submission zip:\n" + absent)
    assert not (workspace / "results" / "submission.zip").exists()


def test_report_is_self_contained_html(workspace):
    result = snakemake(workspace, "--report", "results/report.html")
    assert result.returncode == 0, result.stderr[-3000:]
    html = (workspace / "results" / "report.html").read_text()
    assert html.lstrip().lower().startswith("<!doctype html")
    for item in ("table1.tex", "extensions.tex", "training_curve.png", "seeds_RTE.png", "cost.tex", "RTE.tsv"):
        assert item in html, item


def test_second_invocation_does_nothing(workspace):
    assert planned_jobs(workspace) == {}


def test_variant_setting_reruns_that_variant_and_its_dependants(workspace):
    def edit(config):
        config["variants"]["multi"]["settings"] = {"lr": 5.0e-4}

    jobs = dry_run_after(workspace, edit)
    # multi's two runs; multi-multi (taught by multi seed 0) and multi-ft (initialised from multi) at both seeds
    assert jobs.pop("train") == 6
    assert jobs.pop("teacher_logits") == 1
    assert jobs.pop("collect_scores") == 1
    assert set(jobs) <= REPORTING_RULES


def test_execution_settings_rerun_nothing(workspace):
    """Checkpointing more often or changing threads (say, after a preemption) keeps every finished run."""
    def edit(config):
        config["training"].update(checkpoint_every=3, checkpoint_minutes=1, num_threads=2)

    assert dry_run_after(workspace, edit) == {}


def test_statistics_or_table_setting_reruns_only_statistics_and_tables(workspace):
    def edit_statistics(config):
        config["statistics"]["bootstrap_resamples"] = 2000

    def edit_table(config):
        config["tables"]["table4"]["variants"] = ["multi-multi", "multi"]

    # 4 paper tables + extensions, and their Markdown
    only_stats_and_tables = {"report_settings": 1, "stats": 5, "tables": 1, "markdown": 1}
    assert dry_run_after(workspace, edit_statistics) == only_stats_and_tables
    assert dry_run_after(workspace, edit_table) == only_stats_and_tables


def test_a_table_setting_that_reorders_the_variants_also_redraws_the_figures(workspace):
    def reorder_table1(config):
        config["tables"]["table1"]["variants"] = config["tables"]["table1"]["variants"][::-1]

    assert dry_run_after(workspace, reorder_table1) == {"report_settings": 2, "stats": 5, "tables": 1,
                                                         "markdown": 1, "figures": 1}


def dry_run_after_code_edit(root, module, edit, *args):
    """Job counts of a dry run with `edit(source)` written into bam_core/`module`, then put back."""
    path = root / "bam_core" / module
    original = path.read_text()
    path.write_text(edit(original))
    try:
        return planned_jobs(root, *args)
    finally:
        path.write_text(original)


def test_reordered_config_keys_plan_nothing(workspace):
    """Sorting every key reorders the variants too: the figures take their order from the tables' lists."""
    original = (workspace / "config.yaml").read_text()
    (workspace / "config.yaml").write_text(yaml.safe_dump(config_of(workspace), sort_keys=True))
    try:
        assert planned_jobs(workspace) == {}
    finally:
        (workspace / "config.yaml").write_text(original)


def test_comment_and_docstring_edits_plan_nothing(workspace):
    def edit(source):
        source = source.replace('"""Train one run', '"""Train (reworded) one run', 1)
        return source.replace("\n\n\ndef ", "\n\n\n# a comment\ndef   ", 1) + "\n# trailing comment\n"

    assert dry_run_after_code_edit(workspace, "method/train.py", edit) == {}


def test_code_edit_reruns_its_stage_and_what_follows(workspace):
    def edit(source):
        return source + "\n_EDITED = True\n"

    assert dry_run_after_code_edit(workspace, "reporting/cost.py", edit) == {"cost": 1, "markdown": 1}
    jobs = dry_run_after_code_edit(workspace, "experiment/scores.py", edit)
    assert jobs.pop("collect_scores") == 1
    assert set(jobs) <= REPORTING_RULES
    assert dry_run_after_code_edit(workspace, "experiment/scores.py", edit, "--rerun-triggers", "mtime", "input") == {}


def test_edit_of_a_shared_module_reruns_every_stage_that_imports_it(workspace):
    """Every stage imports io.py (directly or through what it imports): the whole DAG is planned."""
    everything = planned_jobs(workspace, "--forceall")
    assert dry_run_after_code_edit(workspace, "io.py", lambda s: s + "\n_EDITED = True\n") == everything


def test_moved_training_module_is_still_fingerprinted(workspace):
    jobs = dry_run_after_code_edit(workspace, "method/train.py", lambda s: s + "\n_EDITED = True\n")
    assert jobs["train"] == planned_jobs(workspace, "--forceall")["train"]


def test_edit_of_another_data_source_plans_nothing(workspace):
    """The mini workspace reads the synthetic suite: the hub reader is not its code, the suite's generator is."""
    assert config_of(workspace)["data"]["source"] == "synthetic"
    assert dry_run_after_code_edit(workspace, "data/glue_hub.py", lambda s: s + "\n_EDITED = True\n") == {}
    jobs = dry_run_after_code_edit(workspace, "data/synthetic.py", lambda s: s + "\n_EDITED = True\n")
    everything = planned_jobs(workspace, "--forceall")
    assert jobs["prepare"] == everything["prepare"] and jobs["train"] == everything["train"]


REPORTING_RULES = {"stats", "tables", "markdown", "figures", "submission", "cost", "report_settings"}
