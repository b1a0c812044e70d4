"""Two costs of the demo on CPU, each against its alternative in the same run:

- dropout: `bam train`'s multi-task step with dropout 0.1 (BERT's) against 0.0 (the demo's),
  one torch thread, Multi's batch of 64 packed into rows, torch's Adam;
- MLM pretraining (demo_pretraining.pretrain_mlm, two threads as the demo_encoder rule) with
  BertForMaskedLM's own loss (vocabulary head on every position) against masked_lm_loss (masked positions only).

    python benchmarks/demo_costs.py [--steps 60] [--warmup 10] [--repeats 3] [--mlm-steps 120]

The demo's data and model: the synthetic suite's eight tasks at the demo's scale, its WordPiece tokenizer, a
BERT of hidden 64, 2 layers, 2 heads, intermediate 128 (random init: the weights do not change the cost).
Rounds alternate the two sides; prints ms per step of each (best round) and their ratio. Asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bam_core.data import demo_encoder, demo_pretraining, synthetic, tokens  # noqa: E402
from bam_core.data.splits import split_metadata, write_splits  # noqa: E402
from bam_core.data.tasks import get_task  # noqa: E402
from bam_core.method.batches import TaskBatches, load_split  # noqa: E402
from bam_core.method.model import build_model  # noqa: E402
from bam_core.method.optim import build_optimizer  # noqa: E402
from bam_core.method.spec import RunSpec  # noqa: E402
from bam_core.method.train import setup_device, training_step  # noqa: E402


def build_suite(work: Path) -> None:
    for name in synthetic.SUITE:
        task = get_task(name)
        tables = synthetic.load(task, 0, 0.5, 0.1, 1.0)
        write_splits(work / "data" / name, {s: (t, split_metadata(task, s, "bench", t)) for s, t in tables.items()})
    demo_encoder.build(work / "data", list(synthetic.SUITE), work / "encoder", vocab_size=1000,
                       max_position_embeddings=64, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                       intermediate_size=128, initializer_range=0.05)
    for name in synthetic.SUITE:
        tokens.tokenize_task(str(work / "encoder"), work / "data" / name, work / "tokens" / name, 64)


def ms_per_step(work: Path, dropout: float, steps: int, warmup: int) -> float:
    spec = RunSpec(tasks=list(synthetic.SUITE), tokens_dir=str(work / "tokens"),
                   init={"kind": "config", "path": str(work / "encoder")}, lr=2e-3, batch_size=64,
                   adam_bias_correction=True, dropout=dropout, device="cpu", num_threads=1, seed=0,
                   max_seq_length=64, output_dir="-", resume_dir="-")
    device, autocast = setup_device(spec)
    parts = [load_split(spec.tokens_dir, t, "train", spec.max_seq_length) for t in spec.tasks]
    plan = TaskBatches(parts, spec.batch_size, epochs=1, exponent=spec.sampling_exponent, seed=0)
    torch.manual_seed(0)
    model = build_model(spec.init, spec.tasks, spec.dropout, spec.regression_head).to(device).train()
    optimizer, scheduler = build_optimizer(model, spec, plan.total_steps)
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
        training_step(model, optimizer, scheduler, plan.batch(step), step / plan.total_steps, spec, autocast)
    return (time.perf_counter() - start) / steps * 1e3


def mlm_seconds(work: Path, masked_only: bool, steps: int) -> float:
    """demo_pretraining.pretrain_mlm as the demo_encoder rule runs it, or with BertForMaskedLM's own loss."""
    own_loss = demo_pretraining.masked_lm_loss
    if not masked_only:
        demo_pretraining.masked_lm_loss = lambda model, batch: model(**batch).loss
    try:
        start = time.perf_counter()
        demo_pretraining.pretrain_mlm(work / "encoder", demo_pretraining.examples(work / "data", list(synthetic.SUITE)),
                                      steps, num_threads=2)
        return time.perf_counter() - start
    finally:
        demo_pretraining.masked_lm_loss = own_loss
        torch.set_num_threads(1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--mlm-steps", type=int, default=120, help="MLM pretraining steps per round (the demo: 600)")
    args = p.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        build_suite(work)
        best = {0.1: float("inf"), 0.0: float("inf")}
        head = {False: float("inf"), True: float("inf")}
        for _ in range(args.repeats):
            for dropout in best:
                best[dropout] = min(best[dropout], ms_per_step(work, dropout, args.steps, args.warmup))
            for masked_only in head:
                head[masked_only] = min(head[masked_only], mlm_seconds(work, masked_only, args.mlm_steps))
    for dropout, ms in best.items():
        print(f"train step, dropout {dropout}: {ms:.1f} ms")
    print(f"dropout 0.1 / 0.0: {best[0.1] / best[0.0]:.2f}x")
    print(f"MLM pretraining ({args.mlm_steps} steps), head on every position: {head[False]:.1f} s; "
          f"on masked positions: {head[True]:.1f} s")
    print(f"every position / masked only: {head[False] / head[True]:.2f}x")


if __name__ == "__main__":
    main()
