"""The multi-task model: one shared BERT encoder, one small head per task (paper section 4).

c = dropout(BERT pooler(h_[CLS])), the pooler being BERT's tanh dense layer on the first token;
classification head softmax(W c) (we keep logits), regression head sigmoid(w c) on labels in [0, 1]
(`regression_head: linear` drops the sigmoid, as the reference code does).
A saved model directory holds `encoder/` (save_pretrained), `heads.pt` and `model.json`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import torch
from torch import nn
from transformers import AutoConfig, AutoModel

from bam_core.data.tasks import get_task
from bam_core.errors import BamError

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json", "pytorch_model.bin.index.json")


class MultiTaskModel(nn.Module):
    def __init__(self, encoder: nn.Module, task_names: list[str], dropout: float, regression_head: str):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.regression_head = regression_head
        # RoBERTa-style encoders number positions from pad_token_id + 1; BERT from 0
        roberta = encoder.config.model_type in ("roberta", "xlm-roberta", "camembert")
        self.position_offset = encoder.config.pad_token_id + 1 if roberta else 0
        hidden = encoder.config.hidden_size
        self.heads = nn.ModuleDict({t: nn.Linear(hidden, get_task(t).num_outputs) for t in task_names})
        for head in self.heads.values():  # BERT's initialisation
            nn.init.normal_(head.weight, std=getattr(encoder.config, "initializer_range", 0.02))
            nn.init.zeros_(head.bias)

    def pooled(self, input_ids, token_type_ids, position_ids, attention_mask, cls_index) -> torch.Tensor:
        """(B, hidden) dropout(pooler(h_[CLS])) of a packed batch (batches.Batch): one encoder call."""
        check_attention_mask(attention_mask, input_ids)
        hidden = self.encoder(input_ids=input_ids, token_type_ids=token_type_ids,
                              position_ids=position_ids + self.position_offset,
                              attention_mask=attention_mask).last_hidden_state
        cls = hidden.reshape(-1, hidden.shape[-1])[cls_index]
        with torch.autocast(cls.device.type, enabled=False):  # float32 under bf16 autocast: see heads_on
            return self.dropout(self.encoder.pooler(cls.float()[:, None]))  # the pooler reads each row's first token

    def heads_on(self, pooled: torch.Tensor, slices) -> list[torch.Tensor]:
        """Each task's head on its rows: per slice (n, classes) logits, or (n,) regression outputs.

        Pooler and heads run in float32 even under bf16 autocast (one vector per example: no cost to speak of).
        Their outputs are the predictions and a teacher's logits, which bf16's 8 significant bits would round:
        a tiny model's STS-B sigmoid outputs all fell on one bf16 value, a Spearman of 0.
        """
        outputs = []
        with torch.autocast(pooled.device.type, enabled=False):
            pooled = pooled.float()
            for name, lo, hi in slices:
                z = self.heads[name](pooled[lo:hi])
                if get_task(name).is_regression:
                    z = z.squeeze(-1)
                    z = torch.sigmoid(z) if self.regression_head == "sigmoid" else z
                outputs.append(z)
        return outputs

    def forward(self, input_ids, token_type_ids, position_ids, attention_mask, cls_index, slices) -> list[torch.Tensor]:
        """One encoder pass over a packed batch, then each task's head on its examples."""
        return self.heads_on(self.pooled(input_ids, token_type_ids, position_ids, attention_mask, cls_index), slices)


def check_attention_mask(mask: torch.Tensor, input_ids: torch.Tensor) -> None:
    """Refuse anything but the packed batch's bool (rows, 1, L, L) mask. A float mask is added to the attention
    scores: a NaN in it makes every output it touches NaN without an error, and under bf16 autocast one of
    another dtype than the scores is either cast or refused deep inside attention. Free: no device sync."""
    rows, length = input_ids.shape
    if mask.dtype == torch.bool and tuple(mask.shape) == (rows, 1, length, length):
        return
    nans = int(torch.isnan(mask).sum()) if mask.is_floating_point() else 0  # the error path only
    raise BamError(f"attention mask: expected the packed batch's bool mask of shape ({rows}, 1, {length}, {length}), "
                   f"got {str(mask.dtype).removeprefix('torch.')} of shape {tuple(mask.shape)}"
                   + (f" holding {nans} NaN" if nans else ""))


def with_dropout(config, dropout: float):
    """The spec's dropout inside the encoder too (BERT's hidden and attention dropout), as in the paper."""
    for key in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
        if hasattr(config, key):
            setattr(config, key, dropout)
    return config


def _has_weights(path: Path) -> bool:
    return any((path / f).exists() for f in WEIGHT_FILES)


def checkpoint_dir(path: str | Path, task: str) -> Path:
    """The saved model dir holding `task`'s head: path itself, or path/{task}/ (single mode, several tasks)."""
    path = Path(path)
    if (path / task / "heads.pt").exists():
        return path / task
    if (path / "heads.pt").exists():
        heads = json.loads((path / "model.json").read_text())["tasks"]
        if task in heads:
            return path
    else:
        heads = sorted(p.parent.name for p in path.glob("*/heads.pt"))
        if not heads:
            raise BamError(f"init: {path} is not a saved model directory (no heads.pt)")
    raise BamError(f"init: task {task} has no head in checkpoint {path} (it has: {', '.join(heads)})")


def build_model(init: dict, task_names: list[str], dropout: float, regression_head: str) -> MultiTaskModel:
    """The encoder from `init` (config: random init from torch's current seed; pretrained; checkpoint)."""
    kind, path = init["kind"], init["path"]
    if kind == "config":
        if not (Path(path) / "config.json").exists():
            raise BamError(f"init: {path}/config.json not found (kind 'config' needs a BertConfig directory)")
        config = with_dropout(AutoConfig.from_pretrained(path), dropout)
        encoder = AutoModel.from_config(config, attn_implementation="sdpa", add_pooling_layer=True)
        return MultiTaskModel(encoder, task_names, dropout, regression_head)
    if kind == "pretrained":
        if Path(path).is_dir() and not _has_weights(Path(path)):
            raise BamError(f"init: {path} has no model weights ({' or '.join(WEIGHT_FILES[:2])})")
        config = with_dropout(AutoConfig.from_pretrained(path), dropout)
        encoder = AutoModel.from_pretrained(path, config=config, attn_implementation="sdpa")
        return MultiTaskModel(encoder, task_names, dropout, regression_head)
    # kind == "checkpoint": encoder and each task's head from another run's saved model
    dirs = {t: checkpoint_dir(path, t) for t in task_names}
    encoder_dir = next(iter(dirs.values())) / "encoder"
    config = with_dropout(AutoConfig.from_pretrained(encoder_dir), dropout)
    encoder = AutoModel.from_pretrained(encoder_dir, config=config, attn_implementation="sdpa")
    model = MultiTaskModel(encoder, task_names, dropout, regression_head)
    for task, d in dirs.items():
        model.heads[task].load_state_dict(torch.load(d / "heads.pt", map_location="cpu")[task])
    return model


def save_model(model: MultiTaskModel, path: str | Path) -> None:
    """Write encoder/ + heads.pt + model.json into a temp dir, then rename it into place (atomic)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.encoder.save_pretrained(tmp / "encoder")
    torch.save({t: h.state_dict() for t, h in model.heads.items()}, tmp / "heads.pt")
    meta = {"tasks": list(model.heads), "regression_head": model.regression_head}
    (tmp / "model.json").write_text(json.dumps(meta, indent=2) + "\n")
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)


@torch.inference_mode()
def predict(model: MultiTaskModel, data, batch_size: int, device, autocast) -> np.ndarray:
    """Model outputs for every row of a TaskData, in row order: (n, classes) logits or (n, 1) regression."""
    from bam_core.method.batches import collate  # local: batches imports nothing from here, keep it that way

    was_training = model.training
    model.eval()
    order = np.argsort(data.lengths, kind="stable")  # length-sorted chunks pack densely
    zeros = np.zeros(batch_size, dtype=np.int64)
    chunks = []
    for lo in range(0, len(order), batch_size):
        rows = order[lo : lo + batch_size]
        batch = collate([data], zeros[: len(rows)], rows).to(device)
        with autocast:
            (out,) = model(**batch.encoder_inputs, slices=batch.slices)
        chunks.append(out.float().reshape(len(rows), -1).cpu())
    model.train(was_training)
    outputs = torch.cat(chunks).numpy() if chunks else np.zeros((0, data.task.num_outputs), np.float32)
    result = np.empty_like(outputs)
    result[order] = outputs
    return result
