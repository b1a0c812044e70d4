"""Masked-language-model pretraining of the demo encoder on the suite's unlabelled training text.

BAM distils teachers fine-tuned from a *pretrained* BERT. A randomly initialised tiny BERT sits at the
chance plateau for most of a small task's hundred-odd steps and collapses to one class on some seeds
(docs/design-log.md); a few hundred steps of BERT's own objective (15% of tokens masked, 80/10/10
[MASK]/random/kept, `transformers`' collator) give it word order and co-occurrence first, as pretraining
gives BERT. Only training text is read, never a label, so no variant learns anything about a task here.

    bam demo-encoder ... --pretrain-steps 600     (called by the demo_encoder rule)
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from bam_core.data.splits import read_split
from bam_core.data.tasks import get_task

log = logging.getLogger(__name__)


def examples(data_dir, tasks) -> list[tuple[str, str | None]]:
    """(text_a, text_b or None) of every training row, task by task: the inputs fine-tuning will see."""
    rows = []
    for name in tasks:
        task = get_task(name)
        table = read_split(Path(data_dir) / task.name, "train")
        a = table.column("text_a").to_pylist()
        b = table.column("text_b").to_pylist() if task.pair else [None] * len(a)
        rows += zip(a, b)
    return rows


def pretrain_mlm(model_dir, rows, steps: int, batch_size: int = 64, lr: float = 1e-3, seed: int = 0,
                 num_threads: int = 1):
    """A BertForMaskedLM built from the config in model_dir, trained for `steps` steps on `rows`."""
    import torch
    from transformers import (AutoConfig, AutoTokenizer, BertForMaskedLM, DataCollatorForLanguageModeling,
                              get_linear_schedule_with_warmup)

    torch.set_num_threads(num_threads)
    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = BertForMaskedLM(AutoConfig.from_pretrained(model_dir))
    collate = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, seed=seed)
    a, b = zip(*rows)
    single = [i for i, x in enumerate(b) if x is None]
    pairs = [i for i, x in enumerate(b) if x is not None]
    encoded = [None] * len(rows)
    max_len = tokenizer.model_max_length
    for idx, kwargs in ((single, {}), (pairs, {"text_pair": [b[i] for i in pairs]})):
        if idx:
            enc = tokenizer([a[i] for i in idx], truncation=True, max_length=max_len, **kwargs)
            for j, i in enumerate(idx):
                encoded[i] = {k: enc[k][j] for k in ("input_ids", "token_type_ids")}
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimizer, steps // 10, steps)
    order = np.random.default_rng(seed)
    model.train()
    start, losses, queue = time.time(), [], []
    for step in range(1, steps + 1):
        if len(queue) < batch_size:
            queue += order.permutation(len(encoded)).tolist()
        batch = collate([encoded[i] for i in queue[:batch_size]])
        del queue[:batch_size]
        loss = masked_lm_loss(model, batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
        if step % max(1, steps // 10) == 0 or step == steps:
            log.info("MLM pretraining step %d/%d loss %.3f (%.0f ex/s)", step, steps, np.mean(losses[-50:]),
                     step * batch_size / (time.time() - start))
    return model


def masked_lm_loss(model, batch):
    """BertForMaskedLM's loss, with the vocabulary head applied to the masked positions only, the only ones
    the loss reads: the same mean cross-entropy, pretraining 5-12% faster here (benchmarks/demo_costs.py)."""
    import torch.nn.functional as F

    labels = batch["labels"]
    hidden = model.bert(input_ids=batch["input_ids"], token_type_ids=batch["token_type_ids"],
                        attention_mask=batch["attention_mask"]).last_hidden_state
    masked = labels != -100
    return F.cross_entropy(model.cls(hidden[masked]), labels[masked])


def encoder_of(mlm):
    """The pretrained encoder as a BertModel with a pooler, which keeps its random initialisation (BERT's
    next-sentence objective, which trains it, is left out): saved, it loads with no missing weights."""
    from transformers import BertModel

    encoder = BertModel(mlm.config, add_pooling_layer=True)
    missing, unexpected = encoder.load_state_dict(mlm.bert.state_dict(), strict=False)
    if unexpected or any(not k.startswith("pooler.") for k in missing):
        raise RuntimeError(f"MLM encoder weights do not match BertModel: {missing} {unexpected}")
    return encoder
