"""The report's settings JSON (written by the workflow from config): loaded once, checked key by key.

Every problem is a BamError naming the key, so a typo in config.yaml's `tables` block fails at the
first reporting step with the path to fix, not as a KeyError deep in a table. Task names are taken as the
workflow wrote them, not looked up in the registry: a results folder with tasks of your own (custom_tasks)
renders by hand (`bam markdown`) without their declarations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bam_core.errors import BamError
from bam_core.experiment.variants import SINGLE, grid_alpha
from bam_core.io import read_json

SOURCES = ("synthetic", "glue_tsv", "hub")
TABLES = ("table1", "table3", "table4", "table5", "extensions")  # extensions: models beyond the paper


@dataclass(frozen=True)
class Statistics:
    bootstrap_resamples: int = 10_000
    seed: int = 0
    levels: tuple[float, ...] = (0.05, 0.01, 0.001)  # one star per level passed


@dataclass(frozen=True)
class ReportSettings:
    labels: dict[str, str]  # variant id -> display label ("Single→Multi")
    tasks: tuple[str, ...]  # the run's tasks, in Table 1 column order
    source: str
    statistics: Statistics
    tables: dict[str, dict] = field(default_factory=dict)  # only the tables this run reports
    left_out: dict[str, str] = field(default_factory=dict)  # table -> why the config does not report it
    order: tuple[str, ...] = ()  # variants in the config's order (the paper's)
    variant_tasks: dict[str, tuple[str, ...]] = field(default_factory=dict)  # variant id -> its training tasks
    paper_models: dict[str, str] = field(default_factory=dict)  # variant id -> the paper's model, where not its id

    def label(self, variant: str) -> str:
        """The config's label; a grid run of Single (in the cost table) is Single's label with its alpha."""
        alpha = grid_alpha(variant)
        if variant not in self.labels and alpha is not None and SINGLE in self.labels:
            return f"{self.labels[SINGLE]} (α = {alpha:g})"
        return self.labels.get(variant, variant)

    def paper_model(self, variant: str) -> str:
        """The key of the variant's numbers in bam_core.reporting.paper."""
        return self.paper_models.get(variant, variant)

    def table(self, name: str) -> dict:
        if name not in self.tables:
            raise BamError(f"settings: tables.{name} is missing (tables given: {', '.join(self.tables) or 'none'})")
        return self.tables[name]


def _need(obj: dict, key: str, kind, where: str):
    if not isinstance(obj, dict) or key not in obj:
        raise BamError(f"settings: {where}{key} is missing")
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise BamError(f"settings: {where}{key} must be {getattr(kind, '__name__', kind)}, got {value!r}")
    return value


def _variant_list(obj: dict, key: str, where: str, known: dict) -> list[str]:
    values = _need(obj, key, list, where)
    for v in values:
        if v not in known:
            raise BamError(f"settings: {where}{key}: unknown variant {v!r} (not in settings.variants)")
    return values


def _check_tables(tables: dict, variants: dict) -> dict[str, dict]:
    for name in tables:
        if name not in TABLES:
            raise BamError(f"settings: tables.{name}: unknown table (known: {', '.join(TABLES)})")
    for name in ("table1", "extensions"):  # the extensions table has Table 1's shape
        if name in tables:
            t = tables[name]
            chosen = _variant_list(t, "variants", f"tables.{name}.", variants)
            for b in _variant_list(t, "baselines", f"tables.{name}.", variants):
                if b not in chosen:
                    raise BamError(f"settings: tables.{name}.baselines: {b!r} is not in tables.{name}.variants")
    if "table3" in tables:
        for i, pair in enumerate(_need(tables["table3"], "pairs", list, "tables.table3.")):
            if not (isinstance(pair, list) and len(pair) == 2):
                raise BamError(f"settings: tables.table3.pairs[{i}] must be [fine-tuned, without], got {pair!r}")
            _variant_list({"pairs": pair}, "pairs", f"tables.table3.pairs[{i}].", variants)
    if "table4" in tables:
        t = tables["table4"]
        reference = {"reference": [_need(t, "reference", str, "tables.table4.")]}
        _variant_list(reference, "reference", "tables.table4.", variants)
        _variant_list(t, "variants", "tables.table4.", variants)
        if "two_sided" in t:
            _variant_list(t, "two_sided", "tables.table4.", variants)
    if "table5" in tables:
        t = tables["table5"]
        _task_name(_need(t, "task", str, "tables.table5."), "tables.table5.task")
        chosen = _variant_list(t, "variants", "tables.table5.", variants)
        training = _need(t, "training_tasks", dict, "tables.table5.")
        for v in chosen:
            for task in _need(training, v, list, "tables.table5.training_tasks."):
                _task_name(task, f"tables.table5.training_tasks.{v}")
    return tables


def _task_name(name, where: str) -> str:
    if not isinstance(name, str) or not name or name == "Avg":
        raise BamError(f"settings: {where}: {name!r} is not a task name")
    return name


def _statistics(s) -> Statistics:
    """The statistics block; figures are drawn from settings without one (they need no tests)."""
    if not isinstance(s, dict):
        raise BamError(f"settings: statistics must be an object, got {s!r}")
    levels = _need(s, "levels", list, "statistics.")
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in levels):
        raise BamError(f"settings: statistics.levels must be numbers, got {levels!r}")
    stats = Statistics(
        bootstrap_resamples=_need(s, "bootstrap_resamples", int, "statistics."),
        seed=_need(s, "seed", int, "statistics."),
        levels=tuple(float(x) for x in levels),
    )
    if stats.bootstrap_resamples < 1:
        raise BamError("settings: statistics.bootstrap_resamples must be >= 1")
    if list(stats.levels) != sorted(stats.levels, reverse=True) or not all(0 < x < 1 for x in stats.levels):
        raise BamError(f"settings: statistics.levels must be decreasing values in (0, 1), got {list(stats.levels)}")
    return stats


def parse(raw: dict) -> ReportSettings:
    if not isinstance(raw, dict):
        raise BamError("settings: the top level must be a JSON object")
    variants = _need(raw, "variants", dict, "")
    labels, variant_tasks, paper_models = {}, {}, {}
    for v, entry in variants.items():
        labels[v] = _need(entry, "label", str, f"variants.{v}.")
        if "tasks" in entry:
            variant_tasks[v] = tuple(_need(entry, "tasks", list, f"variants.{v}."))
        if "paper" in entry:
            paper_models[v] = _need(entry, "paper", str, f"variants.{v}.")
    order = tuple(_variant_list(raw, "order", "", variants) if "order" in raw else labels)
    tasks = tuple(_need(raw, "tasks", list, ""))
    for t in tasks:
        _task_name(t, "tasks")
    source = _need(raw, "source", str, "")
    if source not in SOURCES:
        raise BamError(f"settings: source must be one of {', '.join(SOURCES)}, got {source!r}")
    stats = _statistics(raw["statistics"]) if "statistics" in raw else Statistics()
    tables = _check_tables(_need(raw, "tables", dict, "") if "tables" in raw else {}, variants)
    left_out = _need(raw, "tables_left_out", dict, "") if "tables_left_out" in raw else {}
    for name, reason in left_out.items():
        if name not in TABLES or not isinstance(reason, str):
            raise BamError(f"settings: tables_left_out.{name}: must be a known table with a reason, got {reason!r}")
    return ReportSettings(labels, tasks, source, stats, tables, left_out, order, variant_tasks, paper_models)


def check_plan(plan) -> None:
    """The reporting stages' settings of a plan (experiment.variants.Plan), parsed while the workflow starts:
    whatever they would refuse after every run has trained is refused before any job runs."""
    for with_statistics in (True, False):
        parse(plan.report_settings(with_statistics=with_statistics))


def load(path: str | Path) -> ReportSettings:
    try:
        raw = read_json(path)
    except FileNotFoundError:
        raise BamError(f"{path}: settings file not found") from None
    except ValueError as err:
        raise BamError(f"{path}: not valid JSON ({err})") from None
    return parse(raw)


def main(argv: list[str]) -> int:
    """`bam report-settings OUT --settings JSON`: check the workflow's reporting settings, then write them."""
    import argparse
    import json

    from bam_core.io import write_json

    parser = argparse.ArgumentParser(prog="bam report-settings", description=main.__doc__)
    parser.add_argument("out")
    parser.add_argument("--settings", required=True, help="the settings as a JSON object")
    args = parser.parse_args(argv)
    raw = json.loads(args.settings)
    parse(raw)
    write_json(raw, args.out)
    return 0
