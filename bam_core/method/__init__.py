"""The method: one training run from its spec. Model and task heads, task-sampled batches, teacher
annealing and distillation losses, layer-wise learning rates, teachers' logits, checkpoints, metrics.
"""
