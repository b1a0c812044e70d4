"""The own-tasks example end to end on a reduced setting, what an edit of a declared task reruns, and the same
rows in another file format giving the same scores (runs of minutes: the full tier)."""

import re
import shutil

import pandas as pd
import pyarrow.json as pajson
import pyarrow.parquet as pq
import pytest
import yaml

from tests.workspace import REPO, deep_merge, make_workspace, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.full
EXAMPLE = "workflow/configs/own-tasks.yaml"
# Fewer steps than the example's (tables and figures are built all the same).
REDUCED = {"encoder": {"demo": {"pretrain_steps": 30}},
           "training": {"single": {"epochs": 1, "min_steps": 10}, "multi": {"epochs": 1}, "finetune": {"epochs": 0.2}}}


def workspace(root, overrides=None):
    root = make_workspace(root, deep_merge(REDUCED, overrides or {}), config=EXAMPLE)
    shutil.copytree(REPO / "examples", root / "examples")
    return root


def run(root):
    result = snakemake(root, "--cores", "2", timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="module", autouse=True)
def datasets_cache(tmp_path_factory):
    """The jobs' datasets cache in a throwaway folder, not ~/.cache/huggingface."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_DATASETS_CACHE", str(tmp_path_factory.mktemp("hf-cache")))
        patch.setenv("HF_DATASETS_OFFLINE", "1")
        yield


@pytest.fixture(scope="module")
def example(tmp_path_factory, datasets_cache):
    root = workspace(tmp_path_factory.mktemp("own-tasks"))
    run(root)
    return root


def test_every_table_has_the_declared_tasks_in_config_order(example):
    tables = example / "results" / "tables"
    for name in ("table1", "table3", "table4", "table5", "paper_vs_run", "cost", "all_tables"):
        assert (tables / f"{name}.tex").is_file(), name
    header = next(line for line in (tables / "table1.tex").read_text().splitlines() if "Avg" in line)
    assert re.findall(r"Avg|Negation|Similarity|RTE", header) == ["Avg", "Negation", "Similarity", "RTE"]
    assert "Similarity" in (tables / "table5.tex").read_text()
    paper_vs_run = (tables / "paper_vs_run.tex").read_text()
    assert "RTE" in paper_vs_run and "left out of this comparison: Negation, Similarity" in paper_vs_run
    assert "& Negation" not in paper_vs_run  # the paper's columns only
    scores = pd.read_parquet(example / "results" / "scores.parquet")
    metrics = scores.drop_duplicates("task").set_index("task")["metric"].to_dict()
    assert metrics == {"Avg": "average", "Negation": "f1", "RTE": "accuracy", "Similarity": "pearson"}
    assert (example / "results" / "figures" / "seeds_Similarity.png").is_file()


def test_submission_has_only_the_glue_task(example):
    sub = example / "results" / "submission"
    assert sorted(p.name for p in sub.iterdir() if not p.name.startswith(".")) == ["README.txt", "RTE.tsv", "WNLI.tsv"]


def prepared(root) -> list[str]:
    """The tasks whose preparation a dry run plans."""
    result = snakemake(root, "-n")
    assert result.returncode == 0, result.stderr
    return sorted(re.findall(r"output: results/data/([^/]+)/train\.parquet", result.stdout))


def test_an_edit_of_a_declared_task_reruns_its_preparation_only(example):
    assert planned_jobs(example) == {}
    config = yaml.safe_load((example / "config.yaml").read_text())
    edited = yaml.safe_load((example / "config.yaml").read_text())
    edited["custom_tasks"]["Negation"]["labels"] = [True, False]  # the definition: the prepare rule's params
    write_config(example, edited)
    try:
        assert prepared(example) == ["Negation"]
    finally:
        write_config(example, config)
    edited = yaml.safe_load((example / "config.yaml").read_text())
    edited["custom_tasks"]["Negation"]["in_average"] = False  # the Avg column only
    write_config(example, edited)
    try:
        jobs = planned_jobs(example)
        assert "prepare" not in jobs and "train" not in jobs and jobs["collect_scores"] == 1
    finally:
        write_config(example, config)
    path = example / "examples/own-tasks/similarity/train.csv"
    path.write_text(path.read_text())  # same rows, a newer file: its input
    assert prepared(example) == ["Similarity"]


def test_other_file_format_same_rows_same_scores(tmp_path):
    """Negation from its JSON Lines files and from Parquet copies: byte-identical data, identical scores."""
    small = {"tasks": ["Negation"], "variants": {"single": {"label": "Single", "mode": "single"},
                                                "multi": {"label": "Multi", "mode": "multi"}},
             "tables": {"table1": {"variants": ["single", "multi"]}}, "submission_variant": "multi"}
    roots = {}
    for kind in ("jsonl", "parquet"):
        root = workspace(tmp_path / kind)
        config = yaml.safe_load((root / "config.yaml").read_text())
        config["variants"] = {}
        config = deep_merge(config, small)
        config["tables"] = small["tables"]
        if kind == "parquet":
            files = config["custom_tasks"]["Negation"]["files"]
            for split, path in files.items():
                target = str(path).replace(".jsonl", ".parquet")
                pq.write_table(pajson.read_json(root / path), root / target)
                files[split] = target
        write_config(root, config)
        run(root)
        roots[kind] = root
    for split in ("train", "dev", "test"):
        a, b = (roots[k] / "results/data/Negation" / f"{split}.parquet" for k in roots)
        assert a.read_bytes() == b.read_bytes()
    scores = [pd.read_parquet(r / "results" / "scores.parquet") for r in roots.values()]
    pd.testing.assert_frame_equal(*scores)
    assert set(scores[0].task) == {"Negation", "Avg"}
    readme = roots["jsonl"] / "results" / "submission" / "README.txt"  # no GLUE task: no file, and it says so
    assert sorted(p.name for p in readme.parent.iterdir() if not p.name.startswith(".")) == ["README.txt"]
    assert readme.read_text().startswith("No GLUE task in this experiment, so no GLUE submission file")
