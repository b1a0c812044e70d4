"""How much each task pulls on the shared encoder at the start of multi-task training, per regression head.

    python scripts/gradient_share.py /work/study    # a run of workflow/configs/glue-minilm.yaml (its tokens, model)

For each task, one batch of 32 training examples (gold targets, no dropout) through the pretrained encoder
with fresh task heads, as a multi-task run starts: the norm of the summed loss's gradient on the encoder's
parameters, per example, and the mean loss. Once with the paper's sigmoid head for regression (squared error
on the [0, 1] scale, this project's default) and once with the reference code's linear head. In a summed
multi-task batch these norms are each task's pull on the shared encoder; behind RESULTS.md's guess about
STS-B in studies/glue-minilm.
"""

import sys
from pathlib import Path

import torch

from bam_core.method.batches import TaskBatches, load_split
from bam_core.method.losses import example_losses
from bam_core.method.model import build_model

TASKS = ["CoLA", "SST-2", "MRPC", "STS-B", "RTE"]


def encoder_gradient_per_example(model, batch) -> tuple[float, float]:
    model.zero_grad()
    losses = example_losses(model(**batch.encoder_inputs, slices=batch.slices), batch.labels, batch.slices, None, 1.0)
    losses.sum().backward()
    grads = [p.grad for n, p in model.named_parameters() if n.startswith("encoder.") and p.grad is not None]
    return torch.sqrt(sum((g ** 2).sum() for g in grads)).item() / len(losses), losses.mean().item()


def main(run: Path) -> None:
    torch.set_num_threads(2)
    tokens = run / "results" / "tokens" / "all-MiniLM-L6-v2"
    init = {"kind": "pretrained", "path": str(run / "models" / "all-MiniLM-L6-v2")}
    batches = {t: TaskBatches([load_split(str(tokens), t, "train", 128)], 32, epochs=1, exponent=1.0, seed=0,
                              batching="mixed", epoch="reference_copies").batch(0) for t in TASKS}
    for head in ("sigmoid", "linear"):
        torch.manual_seed(0)
        model = build_model(init, TASKS, 0.0, head).train()
        cells = [f"{t} {g:.3f} (loss {loss:.3f})" for t, (g, loss) in
                 ((t, encoder_gradient_per_example(model, b)) for t, b in batches.items())]
        print(f"{head:<8} encoder gradient per example: " + ", ".join(cells))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
