"""Which runs must finish before a run can start, how long the plan takes on N parallel workers, and the
order in which Snakemake should start training jobs.

A student waits for its teacher's runs (the teacher variant at the teacher seed or seeds; a teacher that is
Single, like every run taking Single's alpha, waits for the whole alpha grid, every seed, because the
choice is a median over seeds), and a fine-tuning run waits for the multi-task run it starts from.
"""

from __future__ import annotations

import heapq

from bam_core.experiment.variants import ALL, SINGLE, Plan

Run = tuple[str, int, str]


def run_dependencies(plan: Plan, run: Run) -> list[Run]:
    """The training runs that must be finished before `run` starts."""
    vid, seed, _ = run
    v = plan.variants[vid]
    grid = plan.runs(list(plan.grid))
    deps: list[Run] = []
    if v.teacher:
        if v.teacher == SINGLE and plan.grid:
            deps += grid
        else:
            deps += [(v.teacher, s, g) for s in plan.teacher_seeds(vid, seed) for g in plan.groups(v.teacher)]
    if v.init:
        deps.append((v.init, seed, ALL))
    if plan.needs_alpha_choice(vid):
        deps += grid
    return list(dict.fromkeys(deps))


def students_below(plan: Plan, vid: str) -> int:
    """The longest chain of variants that learn from this one (as teacher or init), 0 for none. Single's grid
    variants count as Single."""
    vid = SINGLE if vid in plan.grid else vid
    students = [v.id for v in plan.variants.values() if vid in (v.teacher, v.init)]
    return max((1 + students_below(plan, s) for s in students), default=0)


def scheduling_priority(plan: Plan, vid: str) -> int:
    """A variant's training jobs' Snakemake priority: first the longest chain of students (the chain Single ->
    Single->Multi -> Single->Multi->Single starts early), then the longer jobs (so the run does not end on one
    long job with the other cores idle), as makespan() orders runs when an estimate gives their durations.
    Without one, a job's length is guessed as examples x (per-step overhead / batch size + per-example cost),
    the proportions of 2-core CPU runs of the demo: a step's overhead ~ 20 examples' compute."""
    settings = plan.variants[vid].settings
    examples = len(plan.variants[vid].tasks) * settings["epochs"]
    length = examples * (20 / settings["batch_size"] + 1)
    return 100 * students_below(plan, vid) + min(99, round(length))


def makespan(durations: dict[Run, float], deps: dict[Run, list[Run]], workers: int) -> float:
    """Wall time of list scheduling on `workers`: a free worker takes the ready run with the longest
    chain of work after it (its own duration plus the longest chain of runs waiting on it)."""
    children: dict[Run, list[Run]] = {r: [] for r in durations}
    for run, before in deps.items():
        for d in before:
            children[d].append(run)
    chain: dict[Run, float] = {}
    for run in reversed(topological(durations, deps)):
        chain[run] = durations[run] + max((chain[c] for c in children[run]), default=0.0)
    waiting = {r: len(deps.get(r, [])) for r in durations}
    ready = [(-chain[r], r) for r, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    running: list[tuple[float, Run]] = []
    now = 0.0
    while ready or running:
        while ready and len(running) < workers:
            _, run = heapq.heappop(ready)
            heapq.heappush(running, (now + durations[run], run))
        now, done = heapq.heappop(running)
        for c in children[done]:
            waiting[c] -= 1
            if waiting[c] == 0:
                heapq.heappush(ready, (-chain[c], c))
    return now


def topological(durations: dict[Run, float], deps: dict[Run, list[Run]]) -> list[Run]:
    """Runs ordered so that every run comes after the runs it depends on."""
    order, seen = [], set()

    def visit(run):
        if run in seen:
            return
        seen.add(run)
        for d in deps.get(run, []):
            visit(d)
        order.append(run)

    for run in durations:
        visit(run)
    return order
