"""The hub source, offline: a local directory laid out like the nyu-mll/glue repository, built from the
real TSV rows (or small fixtures), loads through datasets.load_dataset into the same tables as the TSVs."""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from shared_glue import GLUE

from bam_core.data import glue_hub, glue_tsv
from bam_core.data.splits import fingerprint
from bam_core.data.tasks import get_task
from bam_core.errors import BamError
from tests.hf_offline import go_offline


@pytest.fixture(autouse=True)
def offline_datasets(tmp_path, monkeypatch):
    """No network, and a throwaway cache instead of ~/.cache/huggingface."""
    go_offline(tmp_path, monkeypatch)


def fixture_glue(root: Path) -> Path:
    """A tiny GLUE TSV directory, used when ../shared/glue is absent."""
    files = {
        "CoLA": {"train.tsv": "s\t1\t\tThe cat sat.\ns\t0\t*\tSat cat the.\n", "dev.tsv": "s\t1\t\tA dog ran.\n",
                 "test.tsv": "index\tsentence\n0\tBirds fly.\n"},
        "MRPC": {"train.tsv": "\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\tA \"b\".\tA b.\n",
                 "dev.tsv": "\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n0\t3\t4\tC.\tD.\n",
                 "test.tsv": "index\t#1 ID\t#2 ID\t#1 String\t#2 String\n0\t5\t6\tE.\tF.\n"},
        "STS-B": {f"{s}.tsv": "\t".join(["h"] * (10 if s != "test" else 9)) + "\n"
                  + "\t".join(["0"] * 7) + "\tA man.\tA guy." + ("\t3.800\n" if s != "test" else "\n")
                  for s in ("train", "dev", "test")},
        "RTE": {"train.tsv": "index\ts1\ts2\tlabel\n0\tP.\tH.\tnot_entailment\n1\tQ.\tQ.\tentailment\n",
                "dev.tsv": "index\ts1\ts2\tlabel\n0\tP.\tH.\tentailment\n", "test.tsv": "index\ts1\ts2\n0\tP.\tH.\n"},
    }
    for task, named in files.items():
        (root / task).mkdir(parents=True)
        for name, text in named.items():
            (root / task / name).write_text(text, encoding="utf-8")
    return root


def write_mirror(root: Path, tables_by_task: dict) -> Path:
    """Parquet files as in the hub repository, <config>/<split>-00000-of-00001.parquet, and its README configs.

    Hub columns: the config's text columns, `label` (test: -1) and `idx` (given gaps, which must be ignored)."""
    readme = ["---", "configs:"]
    for name, tables in tables_by_task.items():
        task = get_task(name)
        a, b = glue_hub.COLUMNS[task.hub_config]
        readme += [f"- config_name: {task.hub_config}", "  data_files:"]
        for split, table in tables.items():
            hub_split = glue_hub.hub_split(task, split)
            label = table.column("label").fill_null(-1)
            columns = {a: table.column("text_a")} | ({b: table.column("text_b")} if b else {})
            columns |= {"label": label.cast(pa.float32() if task.is_regression else pa.int64()),
                        "idx": pa.array([2 * i + 1 for i in range(table.num_rows)], pa.int32())}
            path = root / task.hub_config / f"{hub_split}-00000-of-00001.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.table(columns), path)
            readme += [f"  - split: {hub_split}", f"    path: {task.hub_config}/{hub_split}-*"]
    (root / "README.md").write_text("\n".join(readme + ["---", ""]), encoding="utf-8")
    return root


def test_hub_mirror_gives_the_same_tables_as_the_tsvs(tmp_path):
    glue = GLUE if (GLUE / "RTE").is_dir() else fixture_glue(tmp_path / "glue")
    names = ["CoLA", "MRPC", "STS-B", "RTE"]
    tsv = {n: glue_tsv.load(get_task(n), glue) for n in names}
    mirror = write_mirror(tmp_path / "mirror", tsv)
    for name in names:
        hub = glue_hub.load(get_task(name), str(mirror))
        for split in ("train", "dev", "test"):
            assert hub[split].equals(tsv[name][split]), (name, split)
            assert fingerprint(hub[split]) == fingerprint(tsv[name][split])
        assert hub["test"].column("label").null_count == hub["test"].num_rows  # -1 -> null
        assert hub["train"].column("idx").to_pylist()[:3] == [0, 1, 2][: hub["train"].num_rows]  # row order


def test_mnli_uses_the_matched_splits():
    mnli, rte = get_task("MNLI"), get_task("RTE")
    assert [glue_hub.hub_split(mnli, s) for s in ("train", "dev", "test")] == [
        "train", "validation_matched", "test_matched"]
    assert [glue_hub.hub_split(rte, s) for s in ("train", "dev", "test")] == ["train", "validation", "test"]


def test_bad_hub_label_and_missing_dataset_are_one_line_errors(tmp_path):
    task = get_task("CoLA")
    good = pa.table({"idx": pa.array([0, 1], pa.int64()), "text_a": ["a .", "b ."],
                     "text_b": pa.nulls(2, pa.string()), "label": pa.array([1, 7], pa.int64())})
    mirror = write_mirror(tmp_path / "mirror", {"CoLA": {"train": good}})
    with pytest.raises(BamError) as err:
        glue_hub.load_split(task, str(mirror), "train")
    assert str(err.value) == (f"hub {mirror} cola/train, row 1: label 7 is not one of CoLA's labels "
                              "(0=unacceptable, 1=acceptable)")
    with pytest.raises(BamError, match=r"^hub dataset '.*nowhere' config 'cola' split 'train': \w+"):
        glue_hub.load_split(task, str(tmp_path / "nowhere"), "train")


def test_empty_hub_split_is_refused(tmp_path):
    """datasets itself refuses an empty parquet split; make_split refuses any other empty one (no rows)."""
    empty = pa.table({"idx": pa.array([], pa.int64()), "text_a": pa.array([], pa.string()),
                      "text_b": pa.array([], pa.string()), "label": pa.array([], pa.int64())})
    mirror = write_mirror(tmp_path / "mirror", {"RTE": {"dev": empty}})
    with pytest.raises(BamError) as err:
        glue_hub.load_split(get_task("RTE"), str(mirror), "dev")
    assert str(err.value).startswith(f"hub dataset '{mirror}' config 'rte' split 'validation': ")
    assert "\n" not in str(err.value)


def test_hub_mirror_of_the_evaluation_sets_gives_the_tsv_tables(tmp_path):
    """MNLI-mm from config mnli's mismatched splits, AX from config ax's test split."""
    from tests.test_evaluation_sets import write_glue_fixture

    glue = write_glue_fixture(tmp_path / "glue")
    tsv = {t: glue_tsv.load(get_task(t), glue) for t in ("MNLI-mm", "AX")}
    mirror = write_mirror(tmp_path / "mirror", tsv)
    for task in ("MNLI-mm", "AX"):
        hub = glue_hub.load(get_task(task), str(mirror))
        assert hub.keys() == tsv[task].keys() == set(get_task(task).splits)
        for split in hub:
            assert hub[split].equals(tsv[task][split]), (task, split)
