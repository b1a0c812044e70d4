"""The optimiser of the paper's reference code: AdamW with layer-wise learning rates, warm-up, decay.

Layer-wise LR: lr * alpha**depth, depth 0 the task heads, 1 the pooler, 2 the top transformer layer,
..., n+1 the bottom layer, n+2 the embeddings; lower layers, which carry general features, move less.
Weight decay 0.01 except LayerNorm weights and biases; linear warm-up over the first
warmup_fraction of the steps, then linear decay to 0 (LambdaLR scales every group's own lr).
"""

from __future__ import annotations

import re

import torch
from transformers import get_linear_schedule_with_warmup

from bam_core.errors import BamError

_LAYER = re.compile(r"^encoder\.encoder\.layer\.(\d+)\.")


def depth_of(name: str, num_layers: int) -> tuple[str, int]:
    """(group name, depth) of a parameter of MultiTaskModel."""
    if name.startswith("heads."):
        return "heads", 0
    if name.startswith("encoder.pooler."):
        return "pooler", 1
    match = _LAYER.match(name)
    if match:
        layer = int(match.group(1))
        return f"layer.{layer}", num_layers - layer + 1
    if name.startswith("encoder.embeddings."):
        return "embeddings", num_layers + 2
    raise BamError(f"layer-wise learning rates: parameter {name!r} is not a head, pooler, layer or embedding")


def no_decay(name: str) -> bool:
    return name.endswith("bias") or "LayerNorm" in name or "layer_norm" in name


def parameter_groups(model, lr: float, alpha: float, weight_decay: float) -> list[dict]:
    """One group per (depth, decay?): {"name": "layer.1" or "layer.1/no_decay", "params", "lr", "weight_decay"}.

    Ordered by depth, so group 0 is the task heads (the lr that history.parquet reports).
    """
    num_layers = model.encoder.config.num_hidden_layers
    groups: dict[str, dict] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        group, depth = depth_of(name, num_layers)
        skip = no_decay(name)
        key = f"{group}/no_decay" if skip else group
        if key not in groups:
            groups[key] = {"name": key, "depth": depth, "params": [], "lr": lr * alpha**depth,
                           "weight_decay": 0.0 if skip else weight_decay}
        groups[key]["params"].append(param)
    return sorted(groups.values(), key=lambda g: g["depth"])


def build_optimizer(model, spec, total_steps: int, alpha: float | None = None):
    """(AdamW, LambdaLR) for a run spec; fused AdamW where torch has it (several times faster step)."""
    alpha = spec.alpha(next(iter(model.heads))) if alpha is None else alpha
    groups = parameter_groups(model, spec.lr, alpha, spec.weight_decay)
    kwargs = dict(lr=spec.lr, eps=spec.adam_epsilon, betas=(0.9, 0.999))
    try:
        optimizer = torch.optim.AdamW(groups, fused=True, **kwargs)
    except (RuntimeError, TypeError):
        optimizer = torch.optim.AdamW(groups, foreach=True, **kwargs)
    warmup = int(spec.warmup_fraction * total_steps)
    scheduler = get_linear_schedule_with_warmup(optimizer, warmup, total_steps)
    return optimizer, scheduler
