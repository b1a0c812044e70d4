"""Time of one optimiser step: BERT's Adam (`AdamWeightDecay`) against torch's AdamW, fused and foreach.

    python benchmarks/optimizer_step.py [--threads 2] [--steps 20] [--repeats 3] [--device cpu]

On all-MiniLM-L6-v2-sized parameters (a random-init BertModel: hidden 384, 6 layers, 12 heads,
intermediate 1536, plus one task head), grouped as `bam train` groups them (layer-wise lr, no decay
on LayerNorm and biases), with random gradients. Each optimiser has its own copy of the model; the
rounds are interleaved and the best round of each is kept, so all figures come from the same run.
Prints ms per step and last: `step time vs AdamWeightDecay: AdamW fused Ax, AdamW foreach Bx,
AdamWeightDecay foreach Cx` (above 1: the default AdamWeightDecay is faster). Asserts nothing.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import torch
from transformers import BertConfig, BertModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bam_core.method.model import MultiTaskModel  # noqa: E402
from bam_core.method.optim import AdamWeightDecay, parameter_groups  # noqa: E402

MINILM = dict(hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536)
SETTINGS = dict(lr=1e-4, betas=(0.9, 0.999), eps=1e-6)


def optimizers(model, device):
    """{name: optimizer}, each over its own copy of `model` with random gradients."""
    built = {}
    makers = {
        "AdamWeightDecay": lambda g: AdamWeightDecay(g, **SETTINGS),  # fused where torch has the kernel
        "AdamWeightDecay foreach": lambda g: AdamWeightDecay(g, fused=False, **SETTINGS),
        "AdamW fused": lambda g: torch.optim.AdamW(g, fused=True, **SETTINGS),
        "AdamW foreach": lambda g: torch.optim.AdamW(g, foreach=True, **SETTINGS),
    }
    gen = torch.Generator(device=device).manual_seed(0)
    for name, make in makers.items():
        copy_ = copy.deepcopy(model).to(device)
        for p in copy_.parameters():
            p.grad = torch.randn(p.shape, generator=gen, device=device) * 1e-3
        built[name] = make(parameter_groups(copy_, 1e-4, 0.9, 0.01))
    return built


def time_steps(optimizer, steps: int, device) -> float:
    """Seconds per step."""
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)
    encoder = BertModel(BertConfig(**MINILM), add_pooling_layer=True)
    model = MultiTaskModel(encoder, ["RTE"], 0.1, "sigmoid")
    n = sum(p.numel() for p in model.parameters())
    built = optimizers(model, device)
    print(f"{n / 1e6:.1f}M parameters in {len(list(model.parameters()))} tensors, "
          f"{len(next(iter(built.values())).param_groups)} groups, {args.threads} threads, {device}")
    for optimizer in built.values():  # warm-up: state allocation, first-call overheads
        time_steps(optimizer, 2, device)
    best = {name: float("inf") for name in built}
    for _ in range(args.repeats):
        for name, optimizer in built.items():
            best[name] = min(best[name], time_steps(optimizer, args.steps, device))
    for name, seconds in best.items():
        print(f"{name:24s} {1000 * seconds:9.2f} ms/step")
    ours = best["AdamWeightDecay"]
    print(f"step time vs AdamWeightDecay: AdamW fused {best['AdamW fused'] / ours:.2f}x, "
          f"AdamW foreach {best['AdamW foreach'] / ours:.2f}x, "
          f"AdamWeightDecay foreach {best['AdamWeightDecay foreach'] / ours:.2f}x")


if __name__ == "__main__":
    main()
