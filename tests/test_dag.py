"""The DAG of the paper's config, and its rendering, from dry runs with no data or model present."""

import re
import time

import pytest
import yaml
from shared_glue import GLUE

from tests.test_config import PROFILE_LINE, TUNING
from tests.workspace import REPO, deep_merge, make_workspace, planned_jobs, snakemake


def test_paper_dag_has_every_run_of_the_paper(tmp_path):
    root = make_workspace(tmp_path, config="workflow/configs/paper.yaml")
    start = time.monotonic()
    jobs = planned_jobs(root)
    seconds = time.monotonic() - start
    # 20 seeds. Single-task jobs, one per task: Single's two alpha-grid variants, Single->Single,
    # Single->Multi->Single and the two fine-tuned variants (6 x 8 tasks); multi-task jobs: Multi,
    # Multi->Multi, Single->Multi, Single->Multi->Single->Multi, 4 ablations, 2 task sets of Table 5,
    # and the extension Single (ensemble)->Multi.
    assert jobs == {
        "prepare": 8 + 3, "tokenize": 8 + 2,  # + MNLI-mm and AX (MNLI's evaluation sets), WNLI (prepared only)
        "train": (6 * 8 + 11) * 20,
        "choose_alpha": 1, "select_single": 8 * 20,
        # single, multi, single-multi, single-multi-single at the first seed; Single's 20-seed ensemble
        "teacher_logits": 5,
        "collect_scores": 1, "report_settings": 2,
        "stats": 5,  # Tables 1, 3, 4, 5 and the extensions table
        "tables": 1, "markdown": 1, "cost": 1, "figures": 1, "submission": 1, "submission_zip": 1,
    }
    assert not (root / "results").exists()
    print(f"paper DAG dry run: {seconds:.1f} s")


def test_dag_renders(tmp_path):
    root = make_workspace(tmp_path)
    result = snakemake(root, "--dag")
    assert result.returncode == 0, result.stderr
    assert result.stdout.lstrip().startswith("digraph snakemake_dag")
    for rule in ("prepare", "train", "teacher_logits", "collect_scores", "stats", "tables"):
        assert f'label = "{rule}' in result.stdout, rule


def test_lint_is_clean():
    result = snakemake(REPO, "--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


def test_glue_minilm_config_without_the_data_is_refused(tmp_path):
    """The study's config pointed at a folder that does not exist: one line naming the key, nothing planned."""
    absent = tmp_path / "no-glue"
    root = make_workspace(tmp_path / "ws", {"data": {"glue_tsv_dir": str(absent)}},
                          config="workflow/configs/glue-minilm.yaml")
    result = snakemake(root, "-n")
    assert (result.returncode, result.stderr) == (
        1, f"{PROFILE_LINE}\nconfig error: data.glue_tsv_dir: {absent} is not a directory\n")


@pytest.mark.glue
def test_glue_minilm_config_dag(tmp_path):
    """The study's config (../shared/glue, MiniLM) plans its five tasks."""
    root = make_workspace(tmp_path, {"data": {"glue_tsv_dir": str(GLUE)}}, config="workflow/configs/glue-minilm.yaml")
    jobs = planned_jobs(root)
    # 3 seeds; per-task single runs: Single's one-value alpha grid (5 tasks); multi-task (6 epochs): Multi,
    # Single->Multi, lambda = 0. Single's runs are selected from the grid; Single at seed 0 teaches. WNLI is
    # prepared for the submission (majority class); no MNLI, so no zip.
    assert (jobs["prepare"], jobs["tokenize"], jobs["train"]) == (5 + 1, 5, (5 + 3) * 3)
    assert "submission_zip" not in jobs
    assert (jobs["select_single"], jobs["teacher_logits"], jobs["markdown"]) == (5 * 3, 1, 1)
    # only SST-2 is capped: its prepare job, alone, subsamples 8,000 rows with seed 0
    shown = snakemake(root, "-n", "-p", "results/data/SST-2/train.parquet", "results/data/RTE/train.parquet").stdout
    assert shown.count("--max-train-examples 8000 --subsample-seed 0") == 1
    assert "bam prepare SST-2 --source glue_tsv --glue-dir " in shown


def test_config_without_tables_plans_table1_only(tmp_path):
    """Three variants and no `tables` key: Tables 3-5's default variants are absent, so only Table 1 is
    planned, and the report's settings say why the others are left out."""
    root = make_workspace(tmp_path)
    config = yaml.safe_load((root / "config.yaml").read_text())
    config["variants"] = {k: config["variants"][k] for k in ("single", "multi", "single-multi")}
    del config["tables"]
    (root / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
    jobs = planned_jobs(root)
    assert (jobs["stats"], jobs["tables"], jobs["report_settings"]) == (1, 1, 2)
    result = snakemake(root, "-n", "-p")
    assert "output: results/stats/table1.parquet" in result.stdout
    assert ("output: results/tables/table1.tex, results/tables/all_tables.tex, results/tables/train_sizes.json, "
            "results/tables/paper_vs_run.tex"
            in result.stdout)
    assert '"tables_left_out": {"table3": "none of its pairs (multi-ft vs multi, ' in result.stdout


def test_demo_trains_each_variant_in_one_job_and_its_chains_first(tmp_path):
    """The demo (`seed_jobs: per_variant`): one training job per variant, holding every seed's spec, and the
    variants with students ask to start first; `per_seed` plans a job per seed. The priorities are worked out
    for tests/test_config.py's TUNING (test_variants.py has the formula)."""
    root = make_workspace(tmp_path, TUNING)
    jobs = planned_jobs(root)
    assert jobs["train"] == 15  # 15 trained variants + Single's one grid variant - Single itself (selected)
    shown = snakemake(root, "-n", "-p", "results/runs/single-multi/2/all/metrics.json").stdout
    blocks = re.split(r"\n(?=(?:local)?rule \w+:)", shown)  # one per job, its shell command included
    (job,) = [b for b in blocks if b.startswith("rule train:") and "wildcards: variant=single-multi," in b]
    assert "log: results/logs/train/single-multi/seeds/all.log" in job
    assert job.count('"name": "single-multi seed ') == 3  # the specs of seeds 0, 1, 2
    assert "priority: 242" in job  # 2 students deep (Single->Multi->Single->Multi) x 100 + length 42
    assert "priority: 1000" in shown  # the teacher logits it needs
    per_seed = deep_merge(TUNING, {"training": {"seed_jobs": "per_seed"}})
    per_seed = planned_jobs(make_workspace(tmp_path / "per_seed", per_seed))
    assert per_seed["train"] == 15 * 3
