"""data.max_train_examples: a seeded subsample of a training split, recorded in its metadata and shown in |D|."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from shared_glue import GLUE

from bam_core.cli import main as bam
from bam_core.data.splits import fingerprint, read_split, subsample
from bam_core.errors import BamError
from bam_core.io import parquet_metadata
from bam_core.reporting import stats, tables, train_sizes

FIXTURES = Path(__file__).parent / "fixtures"


def letters(n: int) -> pa.Table:
    """n rows whose text names the row: row i has idx i and text_a chr(97 + i)."""
    return pa.table({"idx": np.arange(n, dtype=np.int64), "text_a": [chr(97 + i) for i in range(n)],
                     "text_b": pa.nulls(n, pa.string()), "label": np.arange(n, dtype=np.int64) % 2})


def test_subsample_keeps_source_rows_in_source_order():
    drawn, meta = subsample(letters(10), 4, seed=0)
    idx = drawn.column("idx").to_pylist()
    assert len(idx) == 4 and idx == sorted(idx) and len(set(idx)) == 4 and set(idx) <= set(range(10))
    # each kept row is the source row its idx names, text and label alike
    assert drawn.column("text_a").to_pylist() == [chr(97 + i) for i in idx]
    assert drawn.column("label").to_pylist() == [i % 2 for i in idx]
    assert json.loads(meta["bam.subsample"]) == {"rows": 4, "of": 10, "seed": 0}


def test_subsample_is_seeded():
    same = [subsample(letters(50), 10, seed=3)[0].column("idx").to_pylist() for _ in range(2)]
    other = subsample(letters(50), 10, seed=4)[0].column("idx").to_pylist()
    assert same[0] == same[1] and other != same[0]


@pytest.mark.parametrize("cap", [10, 11])
def test_a_split_within_the_cap_stays_whole_with_no_record(cap):
    table = letters(10)
    drawn, meta = subsample(table, cap, seed=0)
    assert drawn.equals(table) and meta == {}


def test_prepare_caps_train_only_and_records_the_draw(tmp_path):
    # the synthetic RTE at scale 2 has 2,490 x 0.01 x 2 = 50 train rows, raised to the floor of 300
    out = tmp_path / "RTE"
    assert bam(["prepare", "RTE", "--out-dir", str(out), "--synthetic-scale", "2",
                "--max-train-examples", "20", "--subsample-seed", "5"]) == 0
    whole = tmp_path / "whole"
    assert bam(["prepare", "RTE", "--out-dir", str(whole), "--synthetic-scale", "2"]) == 0
    train = read_split(out, "train")
    assert train.num_rows == 20
    meta = parquet_metadata(out / "train.parquet")
    assert json.loads(meta["bam.subsample"]) == {"rows": 20, "of": 300, "seed": 5}
    assert meta["bam.fingerprint"] == fingerprint(train)  # of the rows trained on
    assert "bam.subsample" not in parquet_metadata(out / "dev.parquet")
    for split in ("dev", "test"):
        assert (out / f"{split}.parquet").read_bytes() == (whole / f"{split}.parquet").read_bytes()
    assert train_sizes.task_sizes(tmp_path, ["RTE"]) == {"RTE": {"rows": 20, "of": 300, "seed": 5}}


def test_cap_below_one_is_refused(tmp_path, capsys):
    assert bam(["prepare", "RTE", "--out-dir", str(tmp_path / "RTE"), "--max-train-examples", "0"]) == 1
    assert capsys.readouterr().err == "bam prepare: error: --max-train-examples must be at least 1, got 0\n"


@pytest.mark.glue
def test_real_sst2_capped(tmp_path):
    assert bam(["prepare", "SST-2", "--out-dir", str(tmp_path / "SST-2"), "--source", "glue_tsv",
                "--glue-dir", str(GLUE), "--max-train-examples", "8000"]) == 0
    assert train_sizes.task_sizes(tmp_path, ["SST-2"]) == {"SST-2": {"rows": 8000, "of": 67349, "seed": 0}}


@pytest.mark.glue
def test_real_mnli_is_a_subset_capped_again_and_has_no_test_file(tmp_path):
    """SOURCE.md: MNLI's train.tsv is 32,299 of GLUE's 392,702 pairs, its dev set whole, its test file absent;
    QQP's dev is 7,600 of 40,430. Table 1's cell and notes say all of it."""
    for task, cap in (("MNLI", 8000), ("QQP", None)):
        assert bam(["prepare", task, "--out-dir", str(tmp_path / task), "--source", "glue_tsv", "--glue-dir", str(GLUE),
                    *(["--max-train-examples", str(cap)] if cap else [])]) == 0
    sizes = train_sizes.task_sizes(tmp_path, ["MNLI", "QQP"])
    assert sizes == {"MNLI": {"rows": 8000, "of": 32299, "seed": 0, "official": 392702, "test_absent": True},
                     "QQP": {"rows": 34998, "official": 363846, "dev": {"rows": 7600, "official": 40430},
                             "test_absent": True}}
    assert [train_sizes.size_cell(sizes[t]) for t in ("MNLI", "QQP")] == ["8.0k of 32k (of 393k)", "35k (of 364k)"]
    assert train_sizes.size_notes(sizes) == [
        "MNLI trained on a seeded subsample of 8,000 of its 32,299 training examples (data.max_train_examples, seed 0)",
        "MNLI's training file is a subset of 32,299 of GLUE's 392,702 training examples, before any cap",
        "QQP's training file is a subset of 34,998 of GLUE's 363,846 training examples, before any cap",
        "QQP's dev score is on 7,600 of GLUE's 40,430 dev examples (a subset in the data source)",
        "No test file in the data source for MNLI, QQP: no test predictions for them"]


@pytest.mark.parametrize("size, cell", [({"rows": 8000, "of": 67349, "seed": 0}, "8.0k of 67k"),
                                        ({"rows": 20, "of": 50, "seed": 5}, "20 of 50"), ({"rows": 2490}, "2.5k"),
                                        ({"rows": 10293, "official": 104743}, "10k (of 105k)")])
def test_size_cell(size, cell):
    assert train_sizes.size_cell(size) == cell


def test_size_notes_give_exact_counts_and_seed():
    sizes = {"CoLA": {"rows": 8551}, "SST-2": {"rows": 8000, "of": 67349, "seed": 0}}
    assert train_sizes.size_notes(sizes) == [
        "SST-2 trained on a seeded subsample of 8,000 of its 67,349 training examples (data.max_train_examples, seed 0)"]


def test_metadata_that_disagrees_with_the_rows_is_an_error(tmp_path):
    (tmp_path / "RTE").mkdir()
    table = letters(3).replace_schema_metadata({"bam.subsample": json.dumps({"rows": 4, "of": 9, "seed": 0})})
    pa.parquet.write_table(table, tmp_path / "RTE" / "train.parquet")
    with pytest.raises(BamError, match=r"RTE/train.parquet: 3 rows but its bam.subsample metadata says 4"):
        train_sizes.task_sizes(tmp_path, ["RTE"])


def test_table1_shows_the_size_trained_on(tmp_path):
    """The fixture's CoLA capped at 8,000 of 8,551: Table 1's |D| cell, its note, and train_sizes.json."""
    sizes = {"CoLA": 8000, "STS-B": 5749, "RTE": 2490}
    for task, n in sizes.items():
        (tmp_path / "data" / task).mkdir(parents=True)
        meta = {"bam.subsample": json.dumps({"rows": 8000, "of": 8551, "seed": 0})} if task == "CoLA" else {}
        table = pa.Table.from_pandas(pd.DataFrame({"idx": np.arange(n)}), preserve_index=False)
        pa.parquet.write_table(table.replace_schema_metadata(meta), tmp_path / "data" / task / "train.parquet")
    common = ["--scores", str(FIXTURES / "scores.parquet"), "--settings", str(FIXTURES / "report_settings.json")]
    for name in ("table1", "table3", "table4", "table5"):
        assert stats.main([name, *common, "--out", str(tmp_path / "stats" / f"{name}.parquet")]) == 0
    assert tables.main([*common, "--stats-dir", str(tmp_path / "stats"), "--data-dir", str(tmp_path / "data"),
                        "--out-dir", str(tmp_path / "tables")]) == 0
    tex = (tmp_path / "tables" / "table1.tex").read_text()
    assert "$|$D$|$ &  & 8.0k of 8.6k & 5.7k & 2.5k \\\\" in tex
    assert ("CoLA trained on a seeded subsample of 8,000 of its 8,551 training examples "
            "(data.max\\_train\\_examples, seed 0).") in tex
    assert json.loads((tmp_path / "tables" / "train_sizes.json").read_text()) == {
        "CoLA": {"rows": 8000, "of": 8551, "seed": 0}, "STS-B": {"rows": 5749}, "RTE": {"rows": 2490}}


@pytest.mark.parametrize("caps, message", [
    ({"SST2": 5}, ("data.max_train_examples.SST2: 'SST2' is neither a GLUE task (CoLA, SST-2, MRPC, STS-B, QQP, "
                   "MNLI, QNLI, RTE, WNLI) nor declared under custom_tasks")),
    ({"SST-2": 0}, "data.max_train_examples.SST-2: 0 is less than the minimum of 1"),
])
def test_a_bad_cap_in_the_config_names_its_key(caps, message):
    from tests.test_config import demo_config, error_of

    config = demo_config()
    config["data"]["max_train_examples"] = caps
    assert error_of(config) == message
