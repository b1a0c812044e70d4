"""`bam prepare` and the data format behind it: files, metadata, content fingerprint, all-or-nothing writes."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from shared_glue import GLUE

from bam_core.cli import main as bam
from bam_core.data.splits import encode_labels, fingerprint, float32_precision, make_split, read_split
from bam_core.data.tasks import get_task
from bam_core.errors import BamError
from bam_core.io import parquet_metadata


def prepare(tmp_path, task, *options):
    return bam(["prepare", task, "--out-dir", str(tmp_path / task), *options])


def test_synthetic_task_writes_three_files_with_metadata(tmp_path):
    assert prepare(tmp_path, "RTE", "--source", "synthetic", "--synthetic-seed", "7", "--synthetic-scale", "2") == 0
    assert sorted(p.name for p in (tmp_path / "RTE").iterdir()) == ["dev.parquet", "test.parquet", "train.parquet"]
    train = read_split(tmp_path / "RTE", "train")
    assert train.num_rows == 300 and train.schema.field("label").type == pa.int64()
    meta = parquet_metadata(tmp_path / "RTE" / "train.parquet")
    assert meta == {"bam.fingerprint": fingerprint(train), "bam.task": "RTE", "bam.split": "train",
                    "bam.source": "synthetic(seed=7, scale=2.0, label_noise=0.1, sharing=1.0)"}
    assert read_split(tmp_path / "RTE", "test").column("label").null_count == 500


def test_same_seed_same_bytes(tmp_path):
    for run in ("a", "b"):
        assert bam(["prepare", "STS-B", "--out-dir", str(tmp_path / run), "--synthetic-seed", "1"]) == 0
    for split in ("train", "dev", "test"):
        assert (tmp_path / "a" / f"{split}.parquet").read_bytes() == (tmp_path / "b" / f"{split}.parquet").read_bytes()


def test_unknown_task_is_one_line_listing_known_tasks(tmp_path, capsys):
    assert prepare(tmp_path, "MNLI-m", "--source", "synthetic") == 1
    assert capsys.readouterr().err == ("bam prepare: error: unknown task 'MNLI-m'; known tasks: CoLA, SST-2, MRPC, "
                                       "STS-B, QQP, MNLI, QNLI, RTE, WNLI, MNLI-mm, AX\n")
    assert not (tmp_path / "MNLI-m").exists()


def test_failure_in_any_split_leaves_no_file_that_looks_complete(tmp_path, capsys):
    glue = tmp_path / "glue" / "RTE"
    glue.mkdir(parents=True)
    (glue / "train.tsv").write_text("index\ts1\ts2\tlabel\n0\ta\tb\tentailment\n")
    (glue / "dev.tsv").write_text("index\ts1\ts2\tlabel\n0\ta\tb\tentailment\n")
    (glue / "test.tsv").write_text("index\ts1\ts2\n0\ta\n")  # a bad row in the last split
    out = tmp_path / "RTE"
    out.mkdir()
    (out / "train.parquet").write_bytes(b"stale output of an earlier run")
    assert prepare(tmp_path, "RTE", "--source", "glue_tsv", "--glue-dir", str(tmp_path / "glue")) == 1
    assert capsys.readouterr().err == (f"bam prepare: error: {glue / 'test.tsv'}, line 2: expected 3 tab-separated "
                                       "fields, found 2\n")
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("dev, message", [
    ("index\ts1\ts2\tlabel\n", "{dev}: no rows"),
    ("index\ts1\ts2\tlabel\n0\ta\tb\tentailment\n1\t\xff\tb\tentailment\n", "{dev}, line 3: not UTF-8 (byte 0xff)"),
])
def test_empty_or_undecodable_dev_is_one_line_and_writes_nothing(tmp_path, capsys, dev, message):
    glue = tmp_path / "glue" / "RTE"
    glue.mkdir(parents=True)
    (glue / "train.tsv").write_text("index\ts1\ts2\tlabel\n0\ta\tb\tentailment\n")
    (glue / "dev.tsv").write_bytes(dev.encode("latin-1"))
    (glue / "test.tsv").write_text("index\ts1\ts2\n0\ta\tb\n")
    assert prepare(tmp_path, "RTE", "--source", "glue_tsv", "--glue-dir", str(tmp_path / "glue")) == 1
    assert capsys.readouterr().err == "bam prepare: error: " + message.format(dev=glue / "dev.tsv") + "\n"
    assert not (tmp_path / "RTE").exists() or list((tmp_path / "RTE").iterdir()) == []


@pytest.mark.glue
def test_glue_tsv_source_on_the_real_files(tmp_path):
    assert prepare(tmp_path, "MRPC", "--source", "glue_tsv", "--glue-dir", str(GLUE)) == 0
    assert [read_split(tmp_path / "MRPC", s).num_rows for s in ("train", "dev", "test")] == [3668, 408, 1725]


def test_glue_tsv_without_dir_is_an_error(tmp_path, capsys):
    assert prepare(tmp_path, "RTE", "--source", "glue_tsv") == 1
    assert capsys.readouterr().err == "bam prepare: error: --source glue_tsv needs --glue-dir DIR\n"


def table(labels, texts=("a", "b", "c")):
    return make_split(get_task("CoLA"), list(texts), None, labels, where="t")


def test_fingerprint_is_content_not_bytes(tmp_path):
    t = table([1, 0, 1])
    pq.write_table(t, tmp_path / "snappy.parquet")
    pq.write_table(t, tmp_path / "zstd.parquet", compression="zstd", row_group_size=1)
    assert (tmp_path / "snappy.parquet").read_bytes() != (tmp_path / "zstd.parquet").read_bytes()
    fp = fingerprint(t)
    assert fingerprint(pq.read_table(tmp_path / "zstd.parquet")) == fp
    chunked = pa.Table.from_batches(t.to_batches(max_chunksize=1))
    assert chunked.column("text_a").num_chunks == 3 and fingerprint(chunked) == fp
    assert fingerprint(t.slice(1)) != fp and fingerprint(table([1, 0, 0])) != fp
    assert fingerprint(table([1, 0, 1], ("a", "bc", ""))) != fingerprint(table([1, 0, 1], ("ab", "c", "")))
    assert fingerprint(table(None)) != fingerprint(table([0, 0, 0]))  # null labels are not zeros
    assert len(fp) == 64 and int(fp, 16) >= 0


def test_labels_map_to_the_canonical_order_and_bad_ones_name_the_row():
    mnli = get_task("MNLI")
    assert encode_labels(mnli, ["contradiction", "entailment", "neutral", "1"], "x").to_pylist() == [2, 0, 1, 1]
    assert encode_labels(get_task("WNLI"), ["1", "0"], "x").to_pylist() == [1, 0]  # 1 = entailment
    with pytest.raises(BamError) as err:
        encode_labels(mnli, pa.array([0, 3], pa.int64()), "hub nyu-mll/glue mnli/train")
    assert str(err.value) == ("hub nyu-mll/glue mnli/train, row 1: label 3 is not one of MNLI's labels "
                              "(0=entailment, 1=neutral, 2=contradiction)")
    with pytest.raises(BamError, match=r"^f, row 2: label 'n/a' is not one of STS-B's labels \(0-5\)$"):
        encode_labels(get_task("STS-B"), ["1.0", "2.5", "n/a"], "f")
    assert float32_precision(np.array([3.8, 2.111111111, 0.0])).tolist() == [3.8, 2.1111112, 0.0]


def test_read_split_names_the_missing_file(tmp_path):
    with pytest.raises(BamError) as err:
        read_split(tmp_path, "dev")
    assert str(err.value) == f"data file {tmp_path / 'dev.parquet'} not found (run `bam prepare`)"


def test_empty_split_is_refused_whatever_the_source():
    with pytest.raises(BamError) as err:
        make_split(get_task("CoLA"), [], None, [], where="hub nyu-mll/glue cola/validation")
    assert str(err.value) == "hub nyu-mll/glue cola/validation: no rows"


def test_missing_text_names_the_row():
    with pytest.raises(BamError, match=r"^src, row 1: text missing$"):
        make_split(get_task("RTE"), ["p", "q"], ["h", None], ["entailment", "entailment"], where="src")
