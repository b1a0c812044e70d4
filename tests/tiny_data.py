"""A tiny, learnable tokens dir (the format `bam tokenize` writes) and a tiny BertConfig, for tests.

Vocabulary of 64 ids: 0 [PAD], 1 [CLS], 2 [SEP], 3 [UNK], words 4..63. Each task's label is decided
by a marker word, so a 2-layer BERT learns every task in a few hundred steps:
  CoLA   single sentence, 1 iff word 10 occurs            SST-2 single, 1 if word 11 occurs, 0 if word 12
  MRPC   pair, 1 iff sentence b contains word 13          STS-B pair, label = number of word 14 in a (0-5)
  MNLI   pair, 0/1/2 = b contains word 15/16/17           RTE   pair, 0/1 = b contains word 15/17
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa

from bam_core.io import write_parquet

VOCAB, CLS, SEP, PAD = 64, 1, 2, 0
MARKERS = set(range(10, 18))
FILLER = np.array([w for w in range(4, VOCAB) if w not in MARKERS])
SIZES = {"CoLA": 300, "SST-2": 600, "MRPC": 160, "STS-B": 200, "MNLI": 800, "RTE": 100}


def _sentence(rng, markers=()):
    words = list(rng.choice(FILLER, size=rng.integers(3, 14)))
    for m in markers:
        words.insert(int(rng.integers(0, len(words) + 1)), m)
    return words


def _example(task: str, rng):
    """(sentence a, sentence b or None, label) of one example."""
    if task == "CoLA":
        y = int(rng.integers(2))
        return _sentence(rng, [10] if y else []), None, y
    if task == "SST-2":
        y = int(rng.integers(2))
        return _sentence(rng, [11] if y else [12]), None, y
    if task == "MRPC":
        y = int(rng.integers(2))
        return _sentence(rng), _sentence(rng, [13] if y else []), y
    if task == "STS-B":
        y = int(rng.integers(6))
        return _sentence(rng, [14] * y), _sentence(rng), float(y)
    if task == "MNLI":
        y = int(rng.integers(3))
        return _sentence(rng), _sentence(rng, [15 + y]), y
    if task == "RTE":
        y = int(rng.integers(2))
        return _sentence(rng), _sentence(rng, [15 if y == 0 else 17]), y
    raise ValueError(task)


def _table(task: str, n: int, rng, labelled: bool) -> pa.Table:
    ids, types, labels = [], [], []
    for _ in range(n):
        a, b, y = _example(task, rng)
        seq, tt = [CLS, *a, SEP], [0] * (len(a) + 2)
        if b is not None:
            seq += [*b, SEP]
            tt += [1] * (len(b) + 1)
        ids.append(seq)
        types.append(tt)
        labels.append(y if labelled else None)
    label_type = pa.float64() if task == "STS-B" else pa.int64()
    return pa.table({
        "idx": pa.array(np.arange(n), pa.int64()),
        "input_ids": pa.array(ids, pa.list_(pa.int32())),
        "token_type_ids": pa.array(types, pa.list_(pa.int8())),
        "label": pa.array(labels, label_type),
    })


def write_tiny_tokens(root, tasks=tuple(SIZES), seed: int = 0, dev: int = 120, test: int = 40) -> Path:
    """Write {root}/{task}/{train,dev,test}.parquet with bam tokenize's metadata; returns root."""
    root = Path(root)
    for t, task in enumerate(tasks):
        rng = np.random.default_rng([seed, t])
        for split, n in (("train", SIZES[task]), ("dev", dev), ("test", test)):
            table = _table(task, n, rng, labelled=split != "test")
            digest = hashlib.sha256(str(table.to_pydict()).encode()).hexdigest()[:16]
            write_parquet(table, root / task / f"{split}.parquet", {
                "bam.fingerprint": digest, "bam.task": task, "bam.pad_token_id": str(PAD),
                "bam.max_seq_length": "128"})
    return root


def write_tiny_config(path, hidden: int = 32, layers: int = 2) -> Path:
    """A BertConfig directory (config.json) for a tiny random-init encoder."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    config = {"model_type": "bert", "architectures": ["BertModel"], "vocab_size": VOCAB, "hidden_size": hidden,
              "num_hidden_layers": layers, "num_attention_heads": 2, "intermediate_size": 2 * hidden,
              "max_position_embeddings": 64, "type_vocab_size": 2, "pad_token_id": PAD,
              "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02}
    (path / "config.json").write_text(json.dumps(config, indent=2))
    return path


def tiny_spec(tmp_path, **overrides) -> dict:
    """A run spec dict over a tiny tokens dir + config under tmp_path (written if absent)."""
    tokens = tmp_path / "tokens"
    if not tokens.exists():
        write_tiny_tokens(tokens)
    config = tmp_path / "encoder"
    if not config.exists():
        write_tiny_config(config)
    spec = {"name": "tiny", "mode": "multi", "tasks": ["CoLA", "MRPC", "STS-B", "RTE"], "tokens_dir": str(tokens),
            "init": {"kind": "config", "path": str(config)}, "lr": 1e-3, "batch_size": 16, "epochs": 1,
            "num_threads": 1, "checkpoint_every": 20, "eval_batch_size": 64, "device": "cpu",
            "output_dir": str(tmp_path / "run"), "resume_dir": str(tmp_path / "resume")}
    spec.update(overrides)
    return spec
