"""The DAG of the paper's config, and its rendering, from dry runs with no data or model present."""

import time

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
        "prepare": 8, "tokenize": 8,
        "train": (6 * 8 + 10) * 20,
        "choose_alpha": 1, "select_single": 8 * 20,
        "teacher_logits": 4,  # single, multi, single-multi, single-multi-single at the first seed
        "collect_scores": 1, "report_settings": 2, "stats": 4, "tables": 1, "cost": 1, "figures": 1,
        "submission": 1,
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
