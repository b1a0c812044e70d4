"""The optimiser of the paper's reference code: BERT's Adam with layer-wise learning rates and its schedule.

Layer-wise LR: lr * alpha**depth, depth 0 the task heads, 1 the pooler, 2 the top transformer layer,
..., n+1 the bottom layer, n+2 the embeddings; lower layers, which carry general features, move less.
Weight decay 0.01 except LayerNorm weights and biases. A LambdaLR scales every group's own lr.

The reference (google-research bam/bert/optimization.py) uses AdamWeightDecayOptimizer, Adam without
bias correction: early steps are far larger than torch's AdamW takes (about 3.6x over RTE's 234-step
run), so `adam_bias_correction: false` (the default) is needed to train as the paper did.
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


class AdamWeightDecay(torch.optim.Optimizer):
    """BERT's AdamWeightDecayOptimizer: Adam without bias correction, decoupled weight decay.

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  p -= lr (m / (sqrt(v) + eps) + wd p).
    A parameter without a gradient (the head of a task absent from the batch) is updated with a zero
    gradient, as in the reference, where every head runs on every example and its loss is masked.

    The step is torch's fused AdamW kernel (one pass over memory, several times faster than
    torch._foreach_* on CPU) at step = inf: its bias corrections 1 - b**step are then exactly 1,
    which is this update. Where torch has no fused kernel for the device: one torch._foreach_* call
    per operation and group. Neither loops over parameters in Python beyond gathering gradients.
    """

    def __init__(self, params, lr: float, betas=(0.9, 0.999), eps: float = 1e-6, weight_decay: float = 0.0,
                 fused: bool | None = None):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))
        self.fused = fused
        self._cache: dict[int, tuple[list, list, list]] = {}  # group index -> m, v (views of self.state), steps

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self._cache.clear()  # self.state now holds new tensors

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        if hasattr(self, "_cache"):
            self._cache.clear()

    def _group_state(self, index: int, params: list) -> tuple[list, list, list]:
        """(m list, v list, step counts at infinity for the fused kernel) of a group, built once."""
        if index not in self._cache:
            for p in params:
                if not self.state[p]:
                    self.state[p] = {"exp_avg": torch.zeros_like(p), "exp_avg_sq": torch.zeros_like(p)}
            # float32 whatever torch's default dtype: the fused kernels read the step count as float
            at_infinity = torch.full((), float("inf"), dtype=torch.float32, device=params[0].device)
            self._cache[index] = ([self.state[p]["exp_avg"] for p in params],
                                  [self.state[p]["exp_avg_sq"] for p in params], [at_infinity] * len(params))
        return self._cache[index]

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for index, group in enumerate(self.param_groups):
            params = group["params"]
            if not params:
                continue
            grads = [torch.zeros_like(p) if p.grad is None else p.grad for p in params]
            m, v, steps = self._group_state(index, params)
            beta1, beta2 = group["betas"]
            lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
            fused = self.fused if self.fused is not None else params[0].device.type in ("cpu", "cuda")
            if fused:
                torch._fused_adamw_(params, grads, m, v, [], steps, lr=lr, beta1=beta1, beta2=beta2,
                                    weight_decay=wd, eps=eps, amsgrad=False, maximize=False)
                continue
            torch._foreach_lerp_(m, grads, 1 - beta1)
            torch._foreach_mul_(v, beta2)
            torch._foreach_addcmul_(v, grads, grads, value=1 - beta2)
            denom = torch._foreach_sqrt(v)
            torch._foreach_add_(denom, eps)
            if wd:  # p - lr * wd * p, on the old p as in the reference
                torch._foreach_mul_(params, 1 - lr * wd)
            torch._foreach_addcdiv_(params, m, denom, value=-lr)
        return loss


def reference_schedule(optimizer, warmup_steps: int, total_steps: int):
    """The reference's rate at 0-based step t: lr t / W while t < W, then lr (1 - t / T).

    BERT's create_optimizer computes the rate from global_step, which is 0 at the first update and is
    incremented after it (train_op groups apply_gradients with global_step + 1): so the first update
    uses t = 0 (rate 0 during warm-up), like LambdaLR's first step. polynomial_decay(power=1) decays
    over the whole run, not from the end of warm-up: 0.9 lr right after a 10% warm-up.
    """

    def factor(t: int) -> float:
        if t < warmup_steps:
            return t / warmup_steps
        return max(0.0, 1.0 - t / total_steps)

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def build_optimizer(model, spec, total_steps: int, alpha: float | None = None):
    """(optimizer, LambdaLR) for a run spec: the reference's by default, torch's AdamW (fused where torch
    has it) with `adam_bias_correction: true`; the schedule from `lr_schedule`."""
    alpha = spec.alpha(next(iter(model.heads))) if alpha is None else alpha
    groups = parameter_groups(model, spec.lr, alpha, spec.weight_decay)
    kwargs = dict(lr=spec.lr, eps=spec.adam_epsilon, betas=(0.9, 0.999))
    if not spec.adam_bias_correction:
        optimizer = AdamWeightDecay(groups, **kwargs)
    else:
        try:
            optimizer = torch.optim.AdamW(groups, fused=True, **kwargs)
        except (RuntimeError, TypeError):
            optimizer = torch.optim.AdamW(groups, foreach=True, **kwargs)
    warmup = int(spec.warmup_fraction * total_steps)
    if spec.lr_schedule == "reference":
        return optimizer, reference_schedule(optimizer, warmup, total_steps)
    return optimizer, get_linear_schedule_with_warmup(optimizer, warmup, total_steps)
