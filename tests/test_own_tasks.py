"""Tasks of your own (custom_tasks): declarations, their files in four formats and from a hub directory, the
refusals (at start-up and at preparation), and the example config's plan."""

import copy
import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import yaml
from snakemake.utils import validate

from bam_core.cli import main as bam
from bam_core.data import task_files
from bam_core.data.custom_tasks import TASKS_ENV, label_key, parse_declaration, to_json
from bam_core.data.splits import read_split
from bam_core.data.tasks import get_task
from bam_core.errors import BamError
from bam_core.experiment.config import check_config
from bam_core.experiment.variants import Plan, check_data_source
from tests.workspace import REPO, make_workspace, planned_jobs, snakemake
from tests.hf_offline import go_offline

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
EXAMPLE = "workflow/configs/own-tasks.yaml"
ROWS = [("a cat sat .", "a cat sat .", "yes", 4.5), ("dogs bark , loudly", "a \"quoted\" dog", "no", 1.0),
        ("birds fly", "fish swim", "yes", 3.8)]


@pytest.fixture(autouse=True)
def offline_datasets(tmp_path, monkeypatch):
    """No network, a throwaway datasets cache, and no declarations from the caller's environment."""
    go_offline(tmp_path, monkeypatch)
    monkeypatch.delenv(TASKS_ENV, raising=False)


def table(rows=ROWS, labelled=True) -> pa.Table:
    a, b, cls, score = zip(*rows)
    columns = {"first": list(a), "second": list(b)}
    if any(isinstance(x, str) for x in score):  # a bad value among numbers: a text column
        score = [str(x) for x in score]
    return pa.table(columns | ({"cls": list(cls), "score": list(score)} if labelled else {}))


def write(t: pa.Table, path: Path) -> str:
    """One table in the format of the path's extension, written by pyarrow (not by the code under test)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = path.suffix
    if kind == ".parquet":
        pq.write_table(t, path)
    elif kind == ".csv":
        pacsv.write_csv(t, path)
    elif kind == ".tsv":  # GLUE's kind: no quoting (pyarrow's writer refuses a quote unquoted)
        lines = ["\t".join(t.column_names)] + ["\t".join(str(v) for v in r.values()) for r in t.to_pylist()]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in t.to_pylist()), encoding="utf-8")
    return str(path)


def declare(monkeypatch, declarations: dict) -> None:
    """As the workflow does: the declarations in BAM_TASKS for the `bam` commands of this process."""
    parsed = {n: parse_declaration(n, d) for n, d in declarations.items()}
    monkeypatch.setenv(TASKS_ENV, to_json(parsed))


def pair_task(files: dict, **changes) -> dict:
    return {"files": files, "text": ["first", "second"], "label": "cls", "labels": ["no", "yes"],
            "metric": "accuracy"} | changes


def prepare(tmp_path, name: str) -> int:
    return bam(["prepare", name, "--source", "declared", "--out-dir", str(tmp_path / "out" / name)])


# -- declarations -----------------------------------------------------------------------------


def test_a_declaration_is_a_task_of_the_registry(monkeypatch):
    declare(monkeypatch, {"Para": pair_task({"train": "t.csv", "dev": "d.csv"}, metric="f1"),
                          "Score": pair_task({"train": "t.csv", "dev": "d.csv"}, label="score", labels=None,
                                             range=[1, 5], metric="pearson", in_average=False)})
    para, score = get_task("Para"), get_task("Score")
    assert (para.pair, para.labels, para.metric, para.glue, para.in_average) == (True, ("no", "yes"), "f1", False, True)
    assert (score.is_regression, score.label_range, score.in_average, score.splits) == (
        True, (1.0, 5.0), False, ("train", "dev"))
    assert score.to_unit(np.array([1.0, 3.0, 5.0])).tolist() == [0.0, 0.5, 1.0]
    assert score.from_unit(np.array([0.25])).tolist() == [2.0]
    assert get_task("STS-B").to_unit(np.array([3.8])).tolist() == [3.8 / 5]  # STS-B: divided by 5, as before
    with pytest.raises(BamError, match=r"^unknown task 'Nope'; known tasks: CoLA, .*, AX, Para, Score$"):
        get_task("Nope")


def test_label_values_have_one_spelling_whatever_the_file_type():
    assert [label_key(v) for v in (True, "true", False, 1, 1.0, "1", "yes", None, float("nan"))] == [
        "true", "true", "false", "1", "1", "1", "yes", None, None]


def test_the_schema_and_the_parser_have_the_same_defaults():
    schema = yaml.safe_load(SCHEMA.read_text())
    entry = schema["properties"]["custom_tasks"]["additionalProperties"]["properties"]
    d = parse_declaration("X", {"files": {"train": "t.csv", "dev": "d.csv"}, "text": ["a"], "labels": [0, 1],
                                "metric": "accuracy"})
    assert (d.label, d.in_average) == (entry["label"]["default"], entry["in_average"]["default"])


# -- refused at start-up, before any job runs: one line naming the task and key -------------------


def checked(config: dict) -> dict:
    """What common.smk does with a config before building the plan."""
    check_config(config, SCHEMA)
    config = copy.deepcopy(config)
    validate(config, str(SCHEMA), set_default=True)
    declared = check_data_source(config)
    task_files.check_declared_files(declared)
    Plan(config, {})
    return declared


def example_config(tmp_path) -> dict:
    """The example config, its files copied under tmp_path (paths made absolute)."""
    config = yaml.safe_load((REPO / EXAMPLE).read_text())
    shutil.copytree(REPO / "examples", tmp_path / "examples", dirs_exist_ok=True)
    for d in config["custom_tasks"].values():
        d["files"] = {s: str(tmp_path / p) for s, p in d["files"].items()}
    return config


def refusal(tmp_path, edit) -> str:
    config = example_config(tmp_path)
    edit(config)
    with pytest.raises(BamError) as err:
        checked(config)
    assert "\n" not in str(err.value)
    return str(err.value)


def test_example_config_passes_the_start_up_check(tmp_path):
    assert sorted(checked(example_config(tmp_path))) == ["Negation", "Similarity"]


def test_missing_file_is_refused(tmp_path):
    def edit(c):
        c["custom_tasks"]["Negation"]["files"]["dev"] = str(tmp_path / "nowhere.jsonl")
    assert refusal(tmp_path, edit) == f"custom_tasks.Negation.files.dev: {tmp_path / 'nowhere.jsonl'} not found"


def test_unknown_column_is_refused_from_the_header_or_first_record(tmp_path):
    def text(c):
        c["custom_tasks"]["Similarity"]["text"] = ["sentence1", "sentence3"]
    train = tmp_path / "examples/own-tasks/similarity/train.csv"
    assert refusal(tmp_path, text) == (f"custom_tasks.Similarity.text: column 'sentence3' not in {train} "
                                       "(columns: sentence1, sentence2, score)")

    def label(c):
        c["custom_tasks"]["Negation"]["label"] = "negative"
    train = tmp_path / "examples/own-tasks/negation/train.jsonl"
    assert refusal(tmp_path, label) == (f"custom_tasks.Negation.label: column 'negative' not in {train} "
                                        "(columns: sentence, negated)")


def test_parquet_columns_come_from_its_schema(tmp_path):
    path = write(table(), tmp_path / "t.parquet")
    assert task_files.columns_of(path) == ["first", "second", "cls", "score"]


def test_metric_that_does_not_fit_the_kind_is_refused(tmp_path):
    def regression(c):
        c["custom_tasks"]["Similarity"]["metric"] = "accuracy"
    assert refusal(tmp_path, regression) == ("custom_tasks.Similarity.metric: 'accuracy' does not fit a regression "
                                             "task; use spearman or pearson")

    def classification(c):
        c["custom_tasks"]["Negation"]["metric"] = "spearman"
    assert refusal(tmp_path, classification) == ("custom_tasks.Negation.metric: 'spearman' does not fit a "
                                                 "classification task; use accuracy or mcc or f1")

    def three_labels(c):
        c["custom_tasks"]["Negation"]["labels"] = [False, True, "maybe"]
    assert refusal(tmp_path, three_labels) == "custom_tasks.Negation.metric: f1 needs two labels, Negation has 3; use accuracy"


def test_name_of_a_glue_task_is_refused(tmp_path):
    def edit(c):
        c["custom_tasks"]["RTE"] = c["custom_tasks"].pop("Negation")
    assert refusal(tmp_path, edit) == ("custom_tasks.RTE: RTE is a GLUE task's name; give your task another name "
                                       "(or list RTE in tasks to use GLUE's)")


def test_other_declaration_mistakes_name_task_and_key(tmp_path):
    def both(c):
        c["custom_tasks"]["Similarity"]["labels"] = [1, 2]
    assert refusal(tmp_path, both).startswith("custom_tasks.Similarity: give labels (classification")

    def extension(c):
        c["custom_tasks"]["Negation"]["files"]["train"] = "rows.txt"
    assert refusal(tmp_path, extension) == ("custom_tasks.Negation.files.train: rows.txt: unknown file type '.txt' "
                                            "(known: .csv, .tsv, .jsonl, .json, .parquet)")

    def undeclared(c):
        c["tasks"] = ["Negation", "Simliarity"]
    assert refusal(tmp_path, undeclared).startswith("tasks.1: 'Simliarity' is neither a GLUE task (CoLA, SST-2,")


def test_the_snakefile_refuses_before_any_job(tmp_path):
    root = make_workspace(tmp_path / "ws", config=EXAMPLE)
    shutil.copytree(REPO / "examples", root / "examples")
    config = yaml.safe_load((root / "config.yaml").read_text())
    config["custom_tasks"]["Similarity"]["metric"] = "f1"
    (root / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    result = snakemake(root, "-n")
    assert result.returncode == 1
    assert "config error: custom_tasks.Similarity.metric: 'f1' does not fit a regression task" in result.stderr
    assert not (root / "results").exists()


# -- refused at preparation: the file and the row, nothing written ---------------------------------


@pytest.mark.parametrize("rows, message", [
    (ROWS[:1] + [("x", "y", "maybe", 2.0)], "row 2: label 'maybe' is not one of Bad's labels (no, yes)"),
    (ROWS[:2] + [("  ", "y", "yes", 2.0)], "row 3: text column 'first' is empty"),
    (ROWS[:1] + [("x", "y", "yes", "high")], "row 2: label 'high' is not a number"),
    (ROWS[:1] + [("x", "y", "yes", 9.0)], "row 2: label 9.0 is outside the range [1, 5]"),
])
def test_bad_rows_are_refused_naming_file_and_row(tmp_path, monkeypatch, capsys, rows, message):
    regression = "number" in message or "range" in message
    dev = write(table(rows), tmp_path / "dev.csv")
    files = {"train": write(table(), tmp_path / "train.csv"), "dev": dev}
    changes = {"label": "score", "labels": None, "range": [1, 5], "metric": "spearman"} if regression else {}
    declare(monkeypatch, {"Bad": pair_task(files, **changes)})
    assert prepare(tmp_path, "Bad") == 1
    assert capsys.readouterr().err == f"bam prepare: error: Bad: {dev}, {message}\n"
    assert not list((tmp_path / "out").rglob("*.parquet"))


def test_a_glue_source_does_not_read_a_declared_task(tmp_path, monkeypatch, capsys):
    declare(monkeypatch, {"Para": pair_task({"train": write(table(), tmp_path / "t.csv"), "dev": "d.csv"})})
    assert bam(["prepare", "Para", "--source", "synthetic", "--out-dir", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err == ("bam prepare: error: Para is declared under custom_tasks: prepare it with "
                                       "--source declared\n")


# -- the same rows in any format give the same bytes ----------------------------------------------


def test_csv_tsv_json_lines_and_parquet_give_byte_identical_data(tmp_path, monkeypatch):
    """One task declared four times, over the same rows in each file type: the same prepared bytes."""
    out = {}
    for ext in ("csv", "tsv", "jsonl", "parquet"):
        files = {s: write(table(labelled=s != "test"), tmp_path / ext / f"{s}.{ext}") for s in ("train", "dev", "test")}
        declare(monkeypatch, {"Para": pair_task(files),
                              "Score": pair_task(files, label="score", labels=None, range=[1, 5], metric="pearson")})
        for name in ("Para", "Score"):
            assert bam(["prepare", name, "--source", "declared", "--out-dir", str(tmp_path / ext / name)]) == 0
        out[ext] = {(n, s): (tmp_path / ext / n / f"{s}.parquet").read_bytes()
                    for n in ("Para", "Score") for s in ("train", "dev", "test")}
    for ext in ("tsv", "jsonl", "parquet"):
        assert out[ext] == out["csv"], ext
    para = read_split(tmp_path / "csv" / "Para", "train")
    assert para.column("text_b").to_pylist()[1] == 'a "quoted" dog'
    assert para.column("label").to_pylist() == [1, 0, 1]
    assert read_split(tmp_path / "csv" / "Score", "dev").column("label").to_pylist() == [4.5, 1.0, 3.8]
    assert read_split(tmp_path / "csv" / "Score", "test").column("label").null_count == 3


def test_boolean_labels_read_the_same_from_json_lines_and_csv(tmp_path, monkeypatch):
    rows = pa.table({"s": ["it is not so", "it is so"], "y": [True, False]})
    tasks = {f"Neg-{ext}": {"files": {s: write(rows, tmp_path / ext / f"{s}.{ext}") for s in ("train", "dev")},
                            "text": ["s"], "label": "y", "labels": [False, True], "metric": "mcc"}
             for ext in ("csv", "jsonl")}
    declare(monkeypatch, tasks)
    for name in tasks:
        assert prepare(tmp_path, name) == 0
    labels = [read_split(tmp_path / "out" / n, "train").column("label").to_pylist() for n in tasks]
    assert labels == [[1, 0], [1, 0]]
    assert (tmp_path / "out" / "Neg-csv" / "test.parquet").exists()  # no test file: an empty split


def test_hub_directory_gives_the_same_bytes_as_files(tmp_path, monkeypatch):
    """The hub alternative, offline: a local directory laid out as a hub dataset repository."""
    hub = tmp_path / "hub"
    for split, name in (("train", "train"), ("dev", "validation")):
        write(table(), hub / "pairs" / f"{name}-00000-of-00001.parquet")
    (hub / "README.md").write_text("---\nconfigs:\n- config_name: pairs\n  data_files:\n  - split: train\n"
                                   "    path: pairs/train-*\n  - split: validation\n    path: pairs/validation-*\n---\n")
    files = {s: write(table(), tmp_path / f"{s}.csv") for s in ("train", "dev")}
    declare(monkeypatch, {"FromHub": pair_task(None) | {"files": None} | {
        "hub": {"name": str(hub), "config": "pairs", "splits": {"train": "train", "dev": "validation"}}},
        "FromFiles": pair_task(files)})
    for name in ("FromHub", "FromFiles"):
        assert prepare(tmp_path, name) == 0
    for split in ("train", "dev", "test"):
        hub, files = (read_split(tmp_path / "out" / n, split) for n in ("FromHub", "FromFiles"))
        assert hub.equals(files) and hub.schema.metadata == files.schema.metadata | {b"bam.task": b"FromHub"}


# -- the workflow --------------------------------------------------------------------------------


def example_workspace(tmp_path) -> Path:
    root = make_workspace(tmp_path, config=EXAMPLE)
    shutil.copytree(REPO / "examples", root / "examples")
    return root


def test_example_config_plans_every_table(tmp_path):
    root = example_workspace(tmp_path)
    jobs = planned_jobs(root)
    # Negation, Similarity, RTE (synthetic) and WNLI (the submission's majority class); one job per variant
    # (seed_jobs: per_variant): Single's grid, and the eight others (Single itself is selected).
    assert jobs == {"prepare": 4, "demo_encoder": 1, "tokenize": 3, "train": 9, "choose_alpha": 1,
                    "select_single": 2, "teacher_logits": 2, "collect_scores": 1, "report_settings": 2, "stats": 4,
                    "tables": 1, "markdown": 1, "cost": 1, "figures": 1, "submission": 1}


@pytest.mark.full
def test_without_a_glue_task_nothing_is_prepared_for_the_submission(tmp_path):
    root = example_workspace(tmp_path)
    config = yaml.safe_load((root / "config.yaml").read_text())
    config["tasks"] = ["Negation", "Similarity"]
    (root / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    jobs = planned_jobs(root)
    assert (jobs["prepare"], jobs["submission"], "submission_zip" in jobs) == (2, 1, False)


def test_the_submission_readme_names_tasks_of_your_own():
    import pandas as pd

    from bam_core.reporting.submission import readme

    rte = {"RTE.tsv": pd.DataFrame({"index": [0], "prediction": ["entailment"]})}
    text = readme("single-multi", 1, 70.0, rte, {}, ["CoLA"], own=("Negation",))
    assert ("Not GLUE tasks, so no file here: Negation (test predictions in results/runs/single-multi/<seed>/*/"
            "predictions.parquet (split test)).") in text
    assert readme("single-multi", 1, 70.0, {}, {}, ["RTE"], own=("Negation",)).startswith(
        "No GLUE task in this experiment, so no GLUE submission file")


def test_custom_tasks_command_prints_what_bam_tasks_takes(monkeypatch, capsys):
    """For commands run by hand: export BAM_TASKS="$(bam custom-tasks CONFIG)"."""
    assert bam(["custom-tasks", str(REPO / EXAMPLE)]) == 0
    monkeypatch.setenv(TASKS_ENV, capsys.readouterr().out)
    assert get_task("Similarity").label_range == (1.0, 5.0) and get_task("Negation").labels == ("false", "true")
