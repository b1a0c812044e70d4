"""Starting from a pretrained encoder (`encoder.pretrained: DIR`, init kind `pretrained`), as every real run
does: `bam train` trains from the saved weights themselves, and the workflow runs from such a directory."""

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch
import yaml
from tiny_data import VOCAB, tiny_spec

import bam_core.method.train as train_module
from bam_core.cli import main as bam
from tests.workspace import make_workspace, planned_jobs, snakemake, write_config

torch.set_num_threads(1)


def save_encoder(path: Path, vocab_size: int = VOCAB, max_positions: int = 64) -> dict[str, torch.Tensor]:
    """A tiny BertModel saved with save_pretrained; its weights drawn far from BERT's initialisation (sd 0.3,
    seed 123), so that weights a run drew itself cannot pass for them. Returns the saved state dict."""
    from transformers import BertConfig, BertModel

    config = BertConfig(vocab_size=vocab_size, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=max_positions, pad_token_id=0,
                        initializer_range=0.3)
    torch.manual_seed(123)
    encoder = BertModel(config, add_pooling_layer=True)
    encoder.save_pretrained(path)
    return {k: v.clone() for k, v in encoder.state_dict().items()}


def test_bam_train_starts_from_the_saved_weights(tmp_path, monkeypatch):
    saved = save_encoder(tmp_path / "pretrained")
    seen = {}
    step = train_module.training_step

    def first_step_sees(model, *args, **kwargs):  # the model the training loop built, before its first update
        seen.setdefault("encoder", {k: v.detach().clone() for k, v in model.encoder.state_dict().items()})
        return step(model, *args, **kwargs)

    monkeypatch.setattr(train_module, "training_step", first_step_sees)
    spec = tiny_spec(tmp_path, init={"kind": "pretrained", "path": str(tmp_path / "pretrained")}, tasks=["RTE"],
                     epochs=0.2)
    assert bam(["train", "--spec-json", json.dumps(spec)]) == 0
    assert seen["encoder"].keys() == saved.keys()
    different = [k for k in saved if not torch.equal(seen["encoder"][k], saved[k])]
    assert different == []
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["spec"]["init"] == {"kind": "pretrained", "path": str(tmp_path / "pretrained")}
    assert metrics["steps"] == 1  # int(0.2 epochs x 7 batches of RTE's 100 rows): it trained on from there


# ---- the workflow from a pretrained directory ----------------------------------------------------------

PRETRAINED_MINI = {"tasks": ["MNLI", "RTE"], "seeds": 1,
                   "variants": {"multi": {"label": "Multi", "mode": "multi"},
                                "multi-multi": {"label": "Multi→Multi", "mode": "multi", "teacher": "multi"}},
                   "tables": {"table1": {"variants": ["multi", "multi-multi"], "baselines": ["multi"]},
                              "table3": {"pairs": []}, "table4": {"reference": "multi", "variants": []}},
                   "submission_variant": "multi"}


def mini_workspace(root: Path, **keys) -> Path:
    """The workflow with tests/configs/mini.yaml, PRETRAINED_MINI's and `keys`' top-level keys replacing its own."""
    make_workspace(root, config="tests/configs/mini.yaml")
    config = yaml.safe_load((root / "config.yaml").read_text())
    write_config(root, {**config, **PRETRAINED_MINI, **keys})
    return root


@pytest.fixture(scope="module")
def pretrained_dir(tmp_path_factory) -> Path:
    """A pretrained encoder with a tokenizer: the mini config's demo tokenizer and config, and saved weights."""
    root = mini_workspace(tmp_path_factory.mktemp("demo"))
    built = snakemake(root, "--cores", "2", "results/encoders/demo-mini")
    assert built.returncode == 0, built.stderr[-3000:]
    encoder = root / "results/encoders/demo-mini"
    config = json.loads((encoder / "config.json").read_text())
    save_encoder(encoder, config["vocab_size"], config["max_position_embeddings"])
    return encoder


def pretrained_workspace(root: Path, encoder: Path) -> Path:
    return mini_workspace(root, encoder={"name": "mini-pretrained", "pretrained": str(encoder)})


@pytest.mark.full
def test_workflow_from_a_pretrained_encoder(tmp_path, pretrained_dir):
    from transformers import AutoTokenizer

    root = pretrained_workspace(tmp_path, pretrained_dir)
    dry = snakemake(root, "-n")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert "rule demo_encoder:" not in dry.stdout  # nothing built: the directory is the encoder
    done = snakemake(root, "--cores", "2", "results/runs/multi/0/all/metrics.json")
    assert done.returncode == 0, done.stderr[-3000:]
    spec = json.loads((root / "results/runs/multi/0/all/metrics.json").read_text())["spec"]
    assert spec["init"] == {"kind": "pretrained", "path": str(pretrained_dir)}
    assert spec["tokens_dir"] == "results/tokens/mini-pretrained"
    # the tokens are the pretrained directory's tokenizer's ids of the prepared text
    data = pq.read_table(root / "results/data/RTE/dev.parquet").slice(0, 1).to_pylist()[0]
    tokens = pq.read_table(root / "results/tokens/mini-pretrained/RTE/dev.parquet").slice(0, 1).to_pylist()[0]
    expected = AutoTokenizer.from_pretrained(pretrained_dir)(data["text_a"], data["text_b"])["input_ids"]
    assert tokens["input_ids"] == expected


def test_dry_run_from_a_pretrained_directory_builds_no_demo_encoder(tmp_path):
    """The plan alone (seconds): no demo encoder is built, every task is tokenized by the directory's tokenizer."""
    encoder = tmp_path / "encoder"
    save_encoder(encoder)
    counts = planned_jobs(pretrained_workspace(tmp_path / "ws", encoder))
    assert "demo_encoder" not in counts
    # MNLI, RTE and MNLI's evaluation sets (MNLI-mm, AX) are tokenized; WNLI is only prepared (the submission's
    # majority class)
    assert (counts["prepare"], counts["tokenize"]) == (5, 4)
    assert counts["train"] == 2  # Multi and Multi->Multi, one seed
