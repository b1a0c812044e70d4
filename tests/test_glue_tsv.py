"""The GLUE TSV source: the real files of ../shared/glue (row counts and labels of its SOURCE.md) and
hand-written fixtures for every error message."""

import re
from collections import Counter

import pytest
from shared_glue import FOLDERS, GLUE, glue_or_skip

from bam_core.data import glue_tsv
from bam_core.data.tasks import get_task
from bam_core.errors import BamError

# SOURCE.md's table: rows per split (header excluded); None: no test file there (MNLI's, QQP's).
ROWS = {
    "CoLA": (8551, 1043, 1063), "SST-2": (67349, 872, 1821), "MRPC": (3668, 408, 1725),
    "STS-B": (5749, 1500, 1379), "RTE": (2490, 277, 3000), "WNLI": (635, 71, 146),
    "QNLI": (10293, 5463, 5463), "QQP": (34998, 7600, None), "MNLI": (32299, 9815, None),
}


def load(name, split, glue_dir=GLUE):
    return glue_tsv.load_split(get_task(name), glue_dir, split)


@pytest.mark.glue
@pytest.mark.parametrize("name", sorted(ROWS))
def test_row_counts_equal_source_md(name):
    tables = glue_tsv.load(get_task(name), GLUE)
    assert tuple(tables[s].num_rows if s in tables else None for s in ("train", "dev", "test")) == ROWS[name]
    if ROWS[name][2] is not None:
        assert tables["test"].column("label").null_count == ROWS[name][2]


@pytest.mark.glue
def test_label_distributions_equal_source_md():
    def counts(name, split):
        task = get_task(name)
        return {task.labels[k]: v for k, v in Counter(load(name, split).column("label").to_pylist()).items()}

    assert counts("CoLA", "train") == {"acceptable": 6023, "unacceptable": 2528}
    assert counts("CoLA", "dev") == {"acceptable": 721, "unacceptable": 322}
    assert counts("SST-2", "train") == {"positive": 37569, "negative": 29780}
    assert counts("SST-2", "dev") == {"positive": 444, "negative": 428}
    assert counts("MRPC", "train") == {"equivalent": 2474, "not_equivalent": 1194}
    assert counts("MRPC", "dev") == {"equivalent": 279, "not_equivalent": 129}
    assert counts("RTE", "train") == {"entailment": 1249, "not_entailment": 1241}
    assert counts("RTE", "dev") == {"entailment": 146, "not_entailment": 131}
    assert counts("WNLI", "train") == {"entailment": 312, "not_entailment": 323}
    assert counts("WNLI", "dev") == {"entailment": 31, "not_entailment": 40}
    assert counts("QNLI", "dev") == {"entailment": 2702, "not_entailment": 2761}
    assert counts("QNLI", "train") == {"entailment": 5173, "not_entailment": 5120}
    assert counts("QQP", "train") == {"not_duplicate": 22006, "duplicate": 12992}
    assert counts("QQP", "dev") == {"not_duplicate": 4871, "duplicate": 2729}
    assert counts("MNLI", "train") == {"entailment": 10714, "neutral": 10761, "contradiction": 10824}
    assert counts("MNLI", "dev") == {"entailment": 3479, "neutral": 3123, "contradiction": 3213}
    assert counts("MNLI-mm", "dev") == {"entailment": 3463, "neutral": 3129, "contradiction": 3240}
    scores = load("STS-B", "train").column("label").to_pylist()
    assert min(scores) == 0.0 and max(scores) == 5.0


@pytest.mark.glue
def test_first_rows_are_what_the_files_say():
    assert load("CoLA", "train").slice(0, 1).to_pylist() == [{
        "idx": 0, "text_a": "Our friends won't buy this analysis, let alone the next one we propose.",
        "text_b": None, "label": 1}]
    assert load("MRPC", "train").slice(0, 1).to_pylist() == [{
        "idx": 0,
        "text_a": 'Amrozi accused his brother, whom he called "the witness", of deliberately distorting his evidence.',
        "text_b": 'Referring to him as only "the witness", Amrozi accused his brother of deliberately distorting '
                  "his evidence.",
        "label": 1}]
    assert load("STS-B", "train").slice(0, 1).to_pylist() == [{
        "idx": 0, "text_a": "A plane is taking off.", "text_b": "An air plane is taking off.", "label": 5.0}]
    assert load("CoLA", "test").column("text_a")[0].as_py() == "Bill whistled past the house."
    assert not any(t.startswith("\ufeff") for t in load("MRPC", "dev").column("text_a").to_pylist())


# -- fixtures -------------------------------------------------------------------------------------------


def write(root, task, files):
    folder = root / task
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return root


def test_quotes_are_not_csv_quoting_and_mnli_labels_map_to_canonical_order(tmp_path):
    head = "\t".join(f"c{i}" for i in range(8))
    row = "\t".join(["x"] * 8)
    write(tmp_path, "MNLI", {
        "train.tsv": f"{head}\tsentence1\tsentence2\tlabel1\tgold_label\n"
                     f'{row}\t"A quote\tstarts "here\tx\tneutral\n{row}\tB\tb\tx\tcontradiction\n',
    })
    table = load("MNLI", "train", tmp_path)
    assert table.to_pylist() == [
        {"idx": 0, "text_a": '"A quote', "text_b": 'starts "here', "label": 1},
        {"idx": 1, "text_a": "B", "text_b": "b", "label": 2},
    ]


def test_wrong_field_count_names_file_line_and_counts(tmp_path):
    write(tmp_path, "RTE", {"train.tsv": "index\ts1\ts2\tlabel\n0\ta\tb\tentailment\n1\ta\tb\n"})
    path = tmp_path / "RTE" / "train.tsv"
    with pytest.raises(BamError) as err:
        load("RTE", "train", tmp_path)
    assert str(err.value) == f"{path}, line 3: expected 4 tab-separated fields, found 3"
    write(tmp_path, "CoLA", {"dev.tsv": "gj04\t1\t\tGood.\ngj04\t0\t*\tBad\textra.\n"})  # no header
    with pytest.raises(BamError) as err:
        load("CoLA", "dev", tmp_path)
    assert str(err.value) == f"{tmp_path / 'CoLA' / 'dev.tsv'}, line 2: expected 4 tab-separated fields, found 5"


def test_missing_task_folder_is_named(tmp_path):
    with pytest.raises(BamError) as err:
        load("SST-2", "dev", tmp_path)
    assert str(err.value) == (f"GLUE file {tmp_path / 'SST-2' / 'dev.tsv'} not found: no directory "
                              f"{tmp_path / 'SST-2'} (expected the download_glue_data.py layout)")


def test_bad_label_names_file_line_and_value(tmp_path):
    write(tmp_path, "RTE", {"dev.tsv": "index\ts1\ts2\tlabel\n0\ta\tb\tentailment\n1\ta\tb\tmaybe\n"})
    with pytest.raises(BamError) as err:
        load("RTE", "dev", tmp_path)
    assert str(err.value) == (f"{tmp_path / 'RTE' / 'dev.tsv'}, line 3: label 'maybe' is not one of RTE's labels "
                              "(0=entailment, 1=not_entailment)")
    write(tmp_path, "SST-2", {"train.tsv": "sentence\tlabel\ngood .\t1\nbad .\t2\n"})
    with pytest.raises(BamError, match=r"SST-2/train\.tsv, line 3: label '2' is not one of SST-2's labels "
                                       r"\(0=negative, 1=positive\)$"):
        load("SST-2", "train", tmp_path)
    sts = "\t".join(["h"] * 10) + "\n" + "\t".join(["0"] * 7) + "\ta\tb\t5.5\n"
    write(tmp_path, "STS-B", {"dev.tsv": sts})
    with pytest.raises(BamError, match=r"STS-B/dev\.tsv, line 2: label '5\.5' is not one of STS-B's labels \(0-5\)$"):
        load("STS-B", "dev", tmp_path)


def test_mrpc_bom_is_dropped_and_test_has_no_labels(tmp_path):
    folder = tmp_path / "MRPC"
    folder.mkdir()
    (folder / "test.tsv").write_bytes(
        "\ufeffindex\t#1 ID\t#2 ID\t#1 String\t#2 String\n0\t1\t2\tOne.\tTwo.\n".encode("utf-8"))
    assert load("MRPC", "test", tmp_path).to_pylist() == [{"idx": 0, "text_a": "One.", "text_b": "Two.",
                                                            "label": None}]


def test_bytes_that_are_not_utf8_name_file_and_line(tmp_path):
    folder = tmp_path / "RTE"
    folder.mkdir()
    (folder / "dev.tsv").write_bytes(b"\xef\xbb\xbfindex\ts1\ts2\tlabel\n0\ta\tb\tentailment\n1\tcaf\xe9\tb\tentailment\n")
    with pytest.raises(BamError) as err:
        load("RTE", "dev", tmp_path)
    assert str(err.value) == f"{folder / 'dev.tsv'}, line 3: not UTF-8 (byte 0xe9)"


@pytest.mark.parametrize("text", [None, "", "index\ts1\ts2\tlabel\n"])
def test_a_test_file_missing_or_without_rows_is_left_out(tmp_path, text):
    """A partial download: train and dev are read, test is left out (bam prepare records it as absent)."""
    files = {"train.tsv": "index\ts1\ts2\tlabel\n0\tA.\tB.\tentailment\n", "dev.tsv": "index\ts1\ts2\tlabel\n0\tC.\tD.\tnot_entailment\n"}
    write(tmp_path, "RTE", files | ({} if text is None else {"test.tsv": text}))
    tables = glue_tsv.load(get_task("RTE"), tmp_path)
    assert sorted(tables) == ["dev", "train"] and tables["dev"].column("label").to_pylist() == [1]


@pytest.mark.parametrize("text", ["", "index\ts1\ts2\tlabel\n"])
def test_empty_split_is_refused(tmp_path, text):
    write(tmp_path, "RTE", {"dev.tsv": text})
    with pytest.raises(BamError) as err:
        load("RTE", "dev", tmp_path)
    assert str(err.value) == f"{tmp_path / 'RTE' / 'dev.tsv'}: no rows"


def test_without_glue_ci_fails_and_elsewhere_skips(tmp_path, monkeypatch):
    """The gate of every test marked glue (tests/conftest.py): a partial folder counts as absent."""
    (tmp_path / "CoLA").mkdir()
    monkeypatch.setenv("CI", "true")
    where = re.escape(str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match=rf"^CI=true but \.\./shared/glue \({where}\) lacks SST-2, MRPC,"):
        glue_or_skip(tmp_path)
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match=r"lacks SST-2, MRPC, STS-B, QQP, MNLI, QNLI, RTE, WNLI, diagnostic$"):
        glue_or_skip(tmp_path)
    for name in FOLDERS:
        (tmp_path / name).mkdir(exist_ok=True)
    glue_or_skip(tmp_path)  # complete: the test runs
