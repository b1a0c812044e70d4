"""The DAG of the paper's config, and its rendering, from dry runs with no data or model present."""

import time

import yaml

from tests.workspace import REPO, make_workspace, planned_jobs, snakemake


def test_paper_dag_has_every_run_of_the_paper(tmp_path):
    root = make_workspace(tmp_path, config="workflow/configs/paper.yaml")
    start = time.monotonic()
    jobs = planned_jobs(root)
    seconds = time.monotonic() - start
    # 20 seeds. Single-task jobs, one per task: Single's two alpha-grid variants, Single->Single,
    # Single->Multi->Single and the two fine-tuned variants (6 x 8 tasks); multi-task jobs: Multi,
    # Multi->Multi, Single->Multi, Single->Multi->Single->Multi, 4 ablations, 2 task sets of Table 5.
    assert jobs == {
        "prepare": 8 + 3, "tokenize": 8 + 2,  # + MNLI-mm and AX (MNLI's evaluation sets), WNLI (prepared only)
        "train": (6 * 8 + 10) * 20,
        "choose_alpha": 1, "select_single": 8 * 20,
        "teacher_logits": 4,  # single, multi, single-multi, single-multi-single at the first seed
        "collect_scores": 1, "report_settings": 2, "stats": 4, "tables": 1, "cost": 1, "figures": 1,
        "submission": 1, "submission_zip": 1,
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


GLUE = REPO.parent / "shared" / "glue"


def test_glue_small_config_dag(tmp_path):
    """The real-GLUE config (../shared/glue, MiniLM) plans its five tasks; refused cleanly without the data."""
    root = make_workspace(tmp_path, config="workflow/configs/glue-small.yaml")
    if not GLUE.is_dir():
        result = snakemake(root, "-n")
        assert result.returncode == 1 and "config error: data.glue_tsv_dir:" in result.stderr
        return
    config = yaml.safe_load((root / "config.yaml").read_text())
    config["data"]["glue_tsv_dir"] = str(GLUE)
    (root / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
    jobs = planned_jobs(root)
    # per-task single runs: 2 alpha-grid variants, Single->Single and two fine-tuned (5 x 5 tasks);
    # multi-task: Multi, Multi->Multi, Single->Multi, lambda 0, RTE+CoLA+SST-2; 3 seeds
    # WNLI is prepared for the submission (majority class); no MNLI, so no zip
    assert (jobs["prepare"], jobs["tokenize"], jobs["train"]) == (5 + 1, 5, (5 * 5 + 5) * 3)
    assert "submission_zip" not in jobs
