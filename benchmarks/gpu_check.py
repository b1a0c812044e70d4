"""A first look at a CUDA GPU, in one run sized for at most 8 minutes on one GPU (not yet run on one):

    python benchmarks/gpu_check.py                        # on the GPU
    python benchmarks/gpu_check.py --device cpu --tiny    # the same code in seconds (tests/test_gpu_check.py)

1. agreement: a tiny BERT trained a few steps by `bam train`'s step on the device (fp32, TF32 off) and on
   the CPU, from the same weights and batches: the largest relative difference of the losses, then of the
   gradients at the trained weights.
2. bf16: the tiny BERT trained under bf16 autocast: every loss finite, the last tenth's mean below the first's.
3. throughput: a BERT-base-sized encoder (a BertConfig, random init: no hub) on GLUE-like task-mixed batches,
   `bam train`'s packed batches and step (bf16 autocast on CUDA, sdpa) against Hugging Face Trainer (sdpa,
   bf16, train_sampling_strategy="group_by_length"), same examples, batch size and optimiser settings,
   both measured in this run: examples/s and their ratio, model FLOPs utilisation, peak memory.
The data are token ids with GLUE's lengths, learnable in a few dozen steps (the label decides the words).
Exit status 1 when agreement or bf16 stability fails; the throughput figures are printed, never judged.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from train_throughput import TASKS, run_trainer, setup_ours, sync, write_tokens  # noqa: E402

from bam_core.method.losses import example_losses, reduce  # noqa: E402
from bam_core.method.spec import RunSpec  # noqa: E402
from bam_core.method.train import training_step  # noqa: E402

VOCAB = 1000  # ids 0-4: [PAD] [UNK] [CLS] [SEP] [MASK]; words 20-509 (label 0) and 510-999 (label 1)
TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
BASE = dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072)
# GLUE's mean lengths in BERT word pieces (sentence a, sentence b), e.g. RTE ~52 + ~12
LENGTHS = {"SST-2": (23, None), "CoLA": (9, None), "MRPC": (22, 22), "RTE": (52, 12)}
# dense bf16 peak of the cards this is likely to meet (vendor data sheets; the first name found in the device's wins)
PEAK_TFLOPS = {"H200": 989.0, "H100 PCIe": 756.0, "H100": 989.0, "A100": 312.0}
LOSS_RTOL, GRAD_RTOL = 1e-3, 1e-2  # fp32 on both sides: differences are summation order, ~1e-6 relative


def examples(n_per_task: int, seed: int = 0) -> dict:
    """{task: (encodings, labels)} in train_throughput's layout."""
    rng = np.random.default_rng(seed)
    out = {}
    for task in TASKS:
        mean_a, mean_b = LENGTHS[task]
        ids, types, labels = [], [], []
        for _ in range(n_per_task):
            y = int(rng.integers(2))
            low, high = (20, 510) if y == 0 else (510, VOCAB)  # the label decides the words: learnt in steps
            words = lambda m: list(rng.integers(low, high, max(1, int(rng.lognormal(np.log(m), 0.4)))))  # noqa: E731
            a, b = words(mean_a), words(mean_b) if mean_b else []
            seq = ([2, *a, 3] + ([*b, 3] if b else []))[:128]
            ids.append(seq)
            types.append(([0] * (len(a) + 2) + [1] * (len(b) + 1 if b else 0))[:128])
            labels.append(y)
        out[task] = ({"input_ids": ids, "token_type_ids": types, "attention_mask": [[1] * len(s) for s in ids]},
                     labels)
    return out


def write_config(path: Path, sizes: dict) -> dict:
    from transformers import BertConfig

    BertConfig(vocab_size=VOCAB, max_position_embeddings=512, pad_token_id=0, **sizes).save_pretrained(path)
    return {"kind": "config", "path": str(path)}


def spec_of(tokens_dir: Path, init: dict, device: str, **settings) -> RunSpec:
    return RunSpec(tasks=list(TASKS), tokens_dir=str(tokens_dir), init=init, sampling_exponent=1.0, device=device,
                   seed=0, output_dir="-", resume_dir="-", **settings)


def steps_on(spec: RunSpec, steps: int, fp32: bool = False):
    """(losses of `steps` training steps, gradients at the trained weights on the next batch, device)."""
    device, autocast, plan, model, optimizer, scheduler = setup_ours(spec)
    if fp32 and device.type == "cuda":  # setup_device turns TF32 on: off for an fp32 comparison
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    losses = [float(training_step(model, optimizer, scheduler, plan.batch(s).to(device), 1.0, spec, autocast).sum())
              for s in range(steps)]
    batch = plan.batch(steps).to(device)
    with autocast:
        outputs = model(**batch.encoder_inputs, slices=batch.slices)
    model.zero_grad(set_to_none=True)
    reduce(example_losses(outputs, batch.labels, batch.slices, None, 1.0), spec.loss_reduction).backward()
    grads = torch.cat([p.grad.reshape(-1).double().cpu() for p in model.parameters() if p.grad is not None])
    return np.array(losses), grads, device


def check_agreement(tokens_dir, init, device: str, steps: int) -> bool:
    settings = dict(lr=1e-3, batch_size=16, dropout=0.0, precision="fp32")
    loss_d, grad_d, dev = steps_on(spec_of(tokens_dir, init, device, **settings), steps, fp32=True)
    loss_c, grad_c, _ = steps_on(spec_of(tokens_dir, init, "cpu", **settings), steps, fp32=True)
    loss_diff = float(np.max(np.abs(loss_d - loss_c) / np.abs(loss_c)))
    grad_diff = float((grad_d - grad_c).abs().max() / grad_c.abs().max())
    ok = loss_diff <= LOSS_RTOL and grad_diff <= GRAD_RTOL
    print(f"agreement {dev.type} vs cpu, tiny BERT, {steps} fp32 steps: losses {loss_diff:.2e} (<= {LOSS_RTOL:g}), "
          f"gradients {grad_diff:.2e} of the largest (<= {GRAD_RTOL:g}): {'PASS' if ok else 'FAIL'}")
    return ok


def check_bf16(tokens_dir, init, device: str, steps: int) -> bool:
    spec = spec_of(tokens_dir, init, device, lr=1e-3, batch_size=32, precision="bf16")
    losses, _, dev = steps_on(spec, steps)
    tenth = max(1, steps // 10)
    first, last = losses[:tenth].mean(), losses[-tenth:].mean()
    ok = bool(np.isfinite(losses).all()) and last < first
    print(f"bf16 autocast on {dev.type}, tiny BERT, {steps} steps: all losses finite {np.isfinite(losses).all()}, "
          f"mean loss first tenth {first:.3f}, last tenth {last:.3f}: {'PASS' if ok else 'FAIL'}")
    return ok


def model_flops_per_example(data: dict, sizes: dict) -> float:
    """Training FLOPs of one example, on average: 6 x non-embedding parameters per token plus attention
    (12 x layers x hidden x example length per token), each example alone: padding is not counted."""
    hidden, layers, inter = sizes["hidden_size"], sizes["num_hidden_layers"], sizes["intermediate_size"]
    params = layers * (4 * hidden * hidden + 2 * hidden * inter) + hidden * hidden  # + the pooler
    lengths = np.array([len(s) for enc, _ in data.values() for s in enc["input_ids"]], dtype=np.float64)
    return float(np.mean(6 * params * lengths + 12 * layers * hidden * lengths**2))


def peak_memory_mb(device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux KiB; the process's peak so far


def run_ours(tokens_dir, init, args) -> tuple[float, float, torch.device]:
    """(examples/s, peak MB) of `bam train`'s step on packed task-mixed batches (precision auto: bf16 on CUDA)."""
    spec = spec_of(tokens_dir, init, args.device, lr=5e-5, batch_size=args.batch_size)
    device, autocast, plan, model, optimizer, scheduler = setup_ours(spec)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            sync(device)
            start = time.perf_counter()
        batch = plan.batch(step, pin=device.type == "cuda").to(device, non_blocking=True)
        training_step(model, optimizer, scheduler, batch, 1.0, spec, autocast)
    sync(device)
    rate = args.steps * args.batch_size / (time.perf_counter() - start)
    return rate, peak_memory_mb(device), device


def trainer_tokenizer(work: Path):
    """A tokenizer only for Trainer's padding (ids are already there): [PAD] is 0."""
    from transformers import BertTokenizerFast

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(5, VOCAB)]
    (work / "vocab.txt").write_text("\n".join(words) + "\n")
    return BertTokenizerFast(str(work / "vocab.txt"))


def throughput(data, work: Path, args) -> None:
    sizes = TINY if args.tiny else BASE
    init = write_config(work / "throughput-config", sizes)
    ours, ours_mb, device = run_ours(work / "tokens", init, args)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    trainer_args = argparse.Namespace(device=args.device, batch_size=args.batch_size, warmup=args.warmup)
    bf16 = device.type == "cuda" or args.trainer_bf16
    with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet), contextlib.redirect_stdout(quiet):
        theirs, _ = run_trainer(data, trainer_tokenizer(work), init, trainer_args, args.warmup + args.steps,
                                "grouped", work, bf16=bf16)
    theirs_mb = peak_memory_mb(device)
    name = "tiny BERT" if args.tiny else "BERT-base-sized encoder (random init)"
    precision = "bf16" if device.type == "cuda" else "fp32"
    print(f"throughput, {name}, batch {args.batch_size}, {args.steps} steps after {args.warmup}: "
          f"bam train ({precision}) {ours:.1f} examples/s, Trainer (group_by_length, sdpa, "
          f"{'bf16' if bf16 else 'fp32'}) {theirs:.1f} examples/s; ratio {ours / theirs:.2f}x")
    flops = model_flops_per_example(data, sizes)
    peak = args.peak_tflops or next((v for k, v in PEAK_TFLOPS.items()
                                     if device.type == "cuda" and k in torch.cuda.get_device_name(device)), None)
    if peak:
        print(f"model FLOPs utilisation (of {peak:g} TFLOPS bf16 dense): bam train {ours * flops / peak / 1e12:.1%}, "
              f"Trainer {theirs * flops / peak / 1e12:.1%}")
    else:
        print(f"model FLOPs utilisation: n/a on {device.type} (no known peak; --peak-tflops gives one); "
              f"{flops / 1e9:.3g} GFLOPs per example")
    what = "max allocated on the GPU" if device.type == "cuda" else "process max RSS so far"
    print(f"peak memory ({what}): bam train {ours_mb:.0f} MB, Trainer {theirs_mb:.0f} MB")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    parser.add_argument("--tiny", action="store_true", help="the tiny BERT for throughput too (the CPU path: seconds)")
    parser.add_argument("--agreement-steps", type=int, default=5)
    parser.add_argument("--stability-steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=10, help="throughput steps excluded from the timing")
    parser.add_argument("--steps", type=int, default=200, help="throughput steps timed")
    parser.add_argument("--peak-tflops", type=float, help="the device's dense bf16 peak, for an unknown card")
    parser.add_argument("--trainer-bf16", action="store_true", help="Trainer in bf16 on the CPU too")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("gpu_check: no CUDA GPU here (--device cpu --tiny runs the same code on the CPU)", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    began = time.perf_counter()
    if args.device == "cuda":
        print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        n = (max(args.warmup + args.steps, args.stability_steps) + 1) * args.batch_size // len(TASKS) + 1
        data = examples(n)
        write_tokens(data, work / "tokens", pad_id=0)
        tiny = write_config(work / "tiny-config", TINY)
        ok = check_agreement(work / "tokens", tiny, args.device, args.agreement_steps)
        ok &= check_bf16(work / "tokens", tiny, args.device, args.stability_steps)
        throughput(data, work, args)
    print(f"gpu_check: {'all checks passed' if ok else 'a check FAILED'} in {time.perf_counter() - began:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
