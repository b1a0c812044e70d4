"""MNLI-mm and AX (evaluation sets predicted by MNLI's head) and WNLI (never trained on) from every source,
through training, scores and the plan."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from shared_glue import GLUE

from bam_core.cli import main as bam
from bam_core.data import glue_hub, glue_tsv, synthetic
from bam_core.data.splits import ABSENT_KEY, read_metadata, read_split
from bam_core.data.tasks import evaluation_tasks, get_task
from bam_core.errors import BamError
from bam_core.experiment.scores import collect
from bam_core.experiment.variants import absent_test_files
from bam_core.io import write_json
from tests.test_config import REPO, demo_config, plan_of

PARSES = "\t".join(["(parse)"] * 4)  # MNLI's binary parses and parses of both sentences: not read


def mnli_row(i: int, a: str, b: str, gold: str | None) -> str:
    """A row of MNLI's TSVs: index promptID pairID genre 4 parses sentence1 sentence2 [5 labels gold_label]."""
    labels = f"\t{gold}\t{gold}\t{gold}\t{gold}\t{gold}\t{gold}" if gold else ""
    return f"{i}\t{i}\t{i}e\tfiction\t{PARSES}\t{a}\t{b}{labels}\n"


def mnli_header(labelled: bool) -> str:
    cols = ["index", "promptID", "pairID", "genre", "sentence1_binary_parse", "sentence2_binary_parse",
            "sentence1_parse", "sentence2_parse", "sentence1", "sentence2"]
    cols += ["label1", "label2", "label3", "label4", "label5", "gold_label"] if labelled else []
    return "\t".join(cols) + "\n"


def write_glue_fixture(root: Path) -> Path:
    (root / "MNLI").mkdir(parents=True)
    (root / "diagnostic").mkdir()
    (root / "MNLI" / "dev_mismatched.tsv").write_text(
        mnli_header(True) + mnli_row(0, "A man sleeps.", "A man rests.", "entailment")
        + mnli_row(1, "A cat eats.", "No cat eats.", "contradiction") + mnli_row(2, "It rains.", "It is May.", "neutral"))
    (root / "MNLI" / "test_mismatched.tsv").write_text(mnli_header(False) + mnli_row(0, "Dogs bark.", "Dogs sleep.", None))
    (root / "diagnostic" / "diagnostic.tsv").write_text(  # the original GLUE layout: index, sentence1, sentence2
        "index\tsentence1\tsentence2\n0\tThe cat sat.\tA cat sat.\n1\tNobody left.\tSomeone left.\n")
    return root


def test_evaluation_sets_follow_mnli():
    assert evaluation_tasks(["RTE", "MNLI"]) == ["MNLI-mm", "AX"]
    assert evaluation_tasks(["RTE", "CoLA"]) == []
    assert (get_task("MNLI-mm").head, get_task("AX").head, get_task("WNLI").head) == ("MNLI", "MNLI", None)
    assert not (get_task("MNLI-mm").in_average or get_task("AX").in_average)


def test_glue_tsv_mismatched_and_diagnostic(tmp_path):
    glue = write_glue_fixture(tmp_path / "glue")
    for task in ("MNLI-mm", "AX"):
        assert bam(["prepare", task, "--source", "glue_tsv", "--glue-dir", str(glue),
                    "--out-dir", str(tmp_path / task)]) == 0
    mm = {s: read_split(tmp_path / "MNLI-mm", s) for s in ("train", "dev", "test")}
    assert mm["train"].num_rows == 0  # MNLI-mm shares MNLI's training set
    assert mm["dev"].column("label").to_pylist() == [0, 2, 1]  # entailment, contradiction, neutral
    assert mm["dev"].column("text_b").to_pylist() == ["A man rests.", "No cat eats.", "It is May."]
    assert mm["test"].to_pylist() == [{"idx": 0, "text_a": "Dogs bark.", "text_b": "Dogs sleep.", "label": None}]
    ax = {s: read_split(tmp_path / "AX", s) for s in ("train", "dev", "test")}
    assert (ax["train"].num_rows, ax["dev"].num_rows) == (0, 0)
    assert ax["test"].column("text_a").to_pylist() == ["The cat sat.", "Nobody left."]
    assert ax["test"].column("label").null_count == 2


def test_missing_mismatched_test_file_is_recorded_absent_and_a_missing_dev_file_is_named(tmp_path, capsys):
    """A partial download: no test file is no failure (the split is written empty, marked bam.absent, and
    nothing predicts it); no dev file is (the task would have no score), with nothing written."""
    glue = write_glue_fixture(tmp_path / "glue")
    (glue / "MNLI" / "test_mismatched.tsv").unlink()
    assert bam(["prepare", "MNLI-mm", "--source", "glue_tsv", "--glue-dir", str(glue),
                "--out-dir", str(tmp_path / "out")]) == 0
    assert read_split(tmp_path / "out", "test").num_rows == 0 and read_split(tmp_path / "out", "dev").num_rows == 3
    assert read_metadata(tmp_path / "out", "test")[ABSENT_KEY] == "true"
    assert ABSENT_KEY not in read_metadata(tmp_path / "out", "dev")
    (glue / "MNLI" / "dev_mismatched.tsv").unlink()
    capsys.readouterr()
    assert bam(["prepare", "MNLI-mm", "--source", "glue_tsv", "--glue-dir", str(glue),
                "--out-dir", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err == f"bam prepare: error: GLUE file {glue}/MNLI/dev_mismatched.tsv not found\n"
    assert not (tmp_path / "out" / "test.parquet").exists()  # all or nothing


@pytest.mark.glue
def test_shared_glue_evaluation_sets_equal_source_md():
    """SOURCE.md: MNLI's complete mismatched dev set and no mismatched test file; AX's 1,104 unlabelled rows."""
    mm = glue_tsv.load(get_task("MNLI-mm"), GLUE)
    assert sorted(mm) == ["dev"] and mm["dev"].num_rows == 9832
    ax = glue_tsv.load(get_task("AX"), GLUE)
    assert ax["test"].num_rows == 1104 and ax["test"].column("label").null_count == 1104
    assert glue_tsv.load(get_task("WNLI"), GLUE)["test"].num_rows == 146


def test_hub_splits_of_the_evaluation_sets():
    assert [glue_hub.hub_split(get_task("MNLI-mm"), s) for s in ("dev", "test")] == [
        "validation_mismatched", "test_mismatched"]
    assert glue_hub.hub_split(get_task("AX"), "test") == "test"
    assert (get_task("MNLI-mm").hub_config, get_task("AX").hub_config) == ("mnli", "ax")
    assert glue_hub.COLUMNS["ax"] == ("premise", "hypothesis")


def test_synthetic_evaluation_sets_and_wnli():
    mnli = synthetic.load(get_task("MNLI"))
    mm, ax, wnli = (synthetic.load(get_task(t)) for t in ("MNLI-mm", "AX", "WNLI"))
    assert set(mm) == {"dev", "test"} and set(ax) == {"test"} and set(wnli) == {"train", "dev", "test"}
    # MNLI: 392,702 x 0.01 = 3,927 train rows; dev 3,927 / 8 = 491, raised to the floor of 500
    assert mm["dev"].num_rows == mnli["dev"].num_rows == 500 and ax["test"].num_rows == 500
    assert mm["dev"].column("text_a").to_pylist() != mnli["dev"].column("text_a").to_pylist()  # own draws
    assert set(mm["dev"].column("label").to_pylist()) == {0, 1, 2}
    assert (wnli["train"].num_rows, wnli["dev"].num_rows, wnli["test"].num_rows) == (300, 500, 500)  # floors
    assert set(wnli["dev"].column("label").to_pylist()) == {0, 1}


def test_training_predicts_the_evaluation_sets_with_the_mnli_head(tmp_path):
    """MNLI-mm and AX hold copies of MNLI's dev and test rows: their predictions must be MNLI's."""
    import pyarrow.parquet as pq
    import torch
    from tiny_data import tiny_spec, write_tiny_tokens

    from bam_core.method.spec import spec_from_dict
    from bam_core.method.train import train

    torch.set_num_threads(1)
    tokens = write_tiny_tokens(tmp_path / "tokens", tasks=("MNLI", "RTE"))
    for task, split, rows in (("MNLI-mm", "dev", None), ("MNLI-mm", "test", None), ("AX", "dev", 0), ("AX", "test", None)):
        (tokens / task).mkdir(exist_ok=True)  # AX's dev split is empty, as `bam prepare` writes it
        pq.write_table(pq.read_table(tokens / "MNLI" / f"{split}.parquet").slice(0, rows), tokens / task / f"{split}.parquet")
    spec = tiny_spec(tmp_path, tasks=["MNLI", "RTE"], eval_tasks=["MNLI-mm", "AX"], epochs=0.25)
    metrics = train(spec_from_dict(spec))
    pred = pd.read_parquet(tmp_path / "run" / "predictions.parquet")
    assert pred.groupby(["task", "split"]).size().to_dict() == {
        ("AX", "test"): 40, ("MNLI", "dev"): 120, ("MNLI", "test"): 40, ("MNLI-mm", "dev"): 120,
        ("MNLI-mm", "test"): 40, ("RTE", "dev"): 120, ("RTE", "test"): 40}

    def of(task, split):
        return pred[(pred.task == task) & (pred.split == split)].sort_values("idx")["prediction"].to_numpy()

    np.testing.assert_array_equal(of("MNLI-mm", "dev"), of("MNLI", "dev"))
    np.testing.assert_array_equal(of("MNLI-mm", "test"), of("MNLI", "test"))
    np.testing.assert_array_equal(of("AX", "test"), of("MNLI", "test"))
    assert metrics["tasks"].keys() == {"MNLI", "RTE", "MNLI-mm"}  # AX has no dev labels: no score
    assert metrics["tasks"]["MNLI-mm"]["score"] == metrics["tasks"]["MNLI"]["score"]
    assert metrics["average"] == (metrics["tasks"]["MNLI"]["score"] + metrics["tasks"]["RTE"]["score"]) / 2


def test_eval_task_needs_its_head_in_the_run():
    from bam_core.method.spec import spec_from_dict

    with pytest.raises(BamError, match=r"^s: key 'eval_tasks': 'AX' is not an evaluation set of the run's tasks$"):
        spec_from_dict({"tasks": ["RTE"], "eval_tasks": ["AX"], "tokens_dir": "t", "output_dir": "o",
                        "resume_dir": "r"}, source="s")


def test_mnli_mm_is_scored_beside_mnli_but_not_averaged(tmp_path):
    path = tmp_path / "runs" / "single-multi" / "0" / "all" / "metrics.json"
    write_json({"tasks": {"MNLI": {"metric": "accuracy", "score": 80.0}, "RTE": {"metric": "accuracy", "score": 60.0},
                          "MNLI-mm": {"metric": "accuracy", "score": 79.0}}}, path)
    scores = collect([str(path)]).set_index("task")["score"].to_dict()
    assert scores == {"Avg": 70.0, "MNLI": 80.0, "MNLI-mm": 79.0, "RTE": 60.0}


def test_plan_prepares_evaluation_sets_and_wnli_and_zips_only_a_complete_experiment():
    plan = plan_of(demo_config())
    assert plan.data_tasks == ["CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE", "MNLI-mm", "AX", "WNLI"]
    assert plan.submission_complete
    assert plan.spec_settings("rte-mnli", 0, "all", "e", "t")["eval_tasks"] == ["MNLI-mm", "AX"]
    assert plan.spec_settings("rte-qqp-cola-sst2", 0, "all", "e", "t")["eval_tasks"] == []
    mini = plan_of(yaml.safe_load((REPO / "tests" / "configs" / "mini.yaml").read_text()))
    assert mini.data_tasks == ["STS-B", "MNLI", "RTE", "MNLI-mm", "AX", "WNLI"]
    assert not mini.submission_complete  # three tasks: files and a README, no zip


def test_a_glue_directory_without_a_test_file_gets_no_zip(tmp_path):
    """Every task trained, but the GLUE directory lacks MNLI's matched test file: the submission step writes
    the files it can and names the rest, so the plan asks for no zip (which would fail)."""
    glue = tmp_path / "glue"
    for task in ("CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE", "WNLI", "diagnostic"):
        (glue / task).mkdir(parents=True)
        for name in ("test.tsv", "test_matched.tsv", "test_mismatched.tsv", "diagnostic.tsv"):
            (glue / task / name).write_text("header\nrow\n")
    config = demo_config()
    config["data"] |= {"source": "glue_tsv", "glue_tsv_dir": str(glue)}
    config["tasks"] = [t for t in config["tasks"] if t != "WNLI"]
    assert plan_of(config).submission_complete
    (glue / "MNLI" / "test_matched.tsv").write_text("index\tpromptID\n")  # a header alone: no rows
    (glue / "QQP" / "test.tsv").unlink()
    assert absent_test_files(config) == ["QQP", "MNLI"]
    assert not plan_of(config).submission_complete
