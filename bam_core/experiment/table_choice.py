"""Which of the paper's tables a config reports, and from which of its variants.

The schema's defaults for `tables` name the paper's variants (Table 3's fine-tuned models, Table 4's
ablations, ...), which a config of one's own need not have. A default list is narrowed to the variants
the config has; a table left with fewer than two variants, or without its baseline or reference, is
left out, and the reason goes into the report. A list the user wrote is taken as written: every variant
it names must exist.

A table's cells need a score of each of its variants on each of its columns: every task of the experiment
(Tables 1, 3, 4, extensions) or the task of Table 5. A variant trained on fewer tasks is refused here, from
the config alone, rather than by `bam stats` after every run has trained (a default list drops it).
"""

from __future__ import annotations

from dataclasses import dataclass

from bam_core.errors import BamError

TABLES = ("table1", "table3", "table4", "table5", "extensions")  # extensions: models beyond the paper


@dataclass(frozen=True)
class TableChoice:
    tables: dict[str, dict]  # the tables reported, with their effective lists
    left_out: dict[str, str]  # table -> why it is not reported


class _LeftOut(Exception):
    """A table whose defaults do not fit the config; its message is the reason."""


class _Table:
    """One table's settings, each key known to be written by the user or filled in from the schema."""

    def __init__(self, name: str, spec: dict, written: dict | None, variants: dict[str, tuple[str, ...]],
                 columns: tuple[str, ...]):
        """variants: id -> the tasks it is trained on; columns: the tasks the table has a cell of each variant for."""
        self.name, self.spec, self.variants, self.columns = name, spec, variants, columns
        self.written = set(spec) if written is None else set(written.get(name, {}))

    def missing(self, variant: str) -> list[str]:
        """The table's columns the variant has no score for (it is not trained on them)."""
        return [t for t in self.columns if t not in self.variants[variant]]

    def fits(self, variant: str) -> bool:
        return variant in self.variants and not self.missing(variant)

    def variant_list(self, key: str) -> list[str]:
        """A written list as it is (every name known); a default one narrowed to the config's variants."""
        values = self.spec[key]
        if key in self.written:
            for v in values:
                self.known(key, v)
            return list(values)
        return [v for v in values if self.fits(v)]

    def known(self, key: str, variant: str) -> str:
        """A variant the user wrote: it must exist and have a score on every column of the table."""
        if variant not in self.variants:
            raise BamError(f"tables.{self.name}.{key}: unknown variant {variant!r}")
        missing = ", ".join(self.missing(variant))
        if missing:
            raise BamError(f"tables.{self.name}.{key}: variant {variant!r} is trained on "
                           f"{', '.join(self.variants[variant])} only, so it has no score on {missing}, a column of "
                           f"the table ({', '.join(self.columns)}): add {missing} to variants.{variant}.tasks or "
                           f"leave it out of tables.{self.name}")
        return variant

    def need_two(self, chosen: list[str], key: str) -> None:
        if len(chosen) < 2 and key not in self.written:
            partial = [v for v in self.spec[key] if v in self.variants and self.missing(v)]
            why = f" ({', '.join(partial)}: not trained on every task of the table)" if partial else ""
            raise _LeftOut(f"fewer than two of its variants ({', '.join(self.spec[key])}) are in the config{why}")

    def need(self, key: str, variant: str, role: str) -> str:
        """A baseline or reference: a default one missing from the config leaves the table out."""
        if key in self.written:
            return self.known(key, variant)
        if variant not in self.variants:
            raise _LeftOut(f"its {role} {variant!r} is not a variant of the config")
        if self.missing(variant):
            raise _LeftOut(f"its {role} {variant!r} is not trained on {', '.join(self.missing(variant))}")
        return variant


def _table1(t: _Table) -> dict:
    """Table 1, or the extensions table in its shape."""
    variants = t.variant_list("variants")
    t.need_two(variants, "variants")
    baselines = [t.need("baselines", b, "baseline") for b in t.spec["baselines"]]
    for b in baselines:
        if b not in variants:
            raise BamError(f"tables.{t.name}.baselines: {b!r} is not in tables.{t.name}.variants")
    return {"variants": variants, "baselines": baselines}


def _table3(t: _Table) -> dict:
    if "pairs" in t.written:
        pairs = [[t.known("pairs", ft), t.known("pairs", base)] for ft, base in t.spec["pairs"]]
    else:
        pairs = [list(p) for p in t.spec["pairs"] if all(t.fits(v) for v in p)]
        if not pairs:
            named = ", ".join(f"{ft} vs {base}" for ft, base in t.spec["pairs"])
            raise _LeftOut(f"none of its pairs ({named}) has both variants in the config")
    return {"pairs": pairs}


def _table4(t: _Table) -> dict:
    reference = t.need("reference", t.spec["reference"], "reference")
    variants = t.variant_list("variants")
    if not variants and "variants" not in t.written:
        raise _LeftOut(f"none of its variants ({', '.join(t.spec['variants'])}) is in the config")
    return {"reference": reference, "variants": variants, "two_sided": t.variant_list("two_sided")}


def _table5(t: _Table, tasks: tuple[str, ...]) -> dict:
    task = t.spec["task"]
    if task not in tasks:
        if "task" in t.written:
            raise BamError(f"tables.table5.task: {task!r} is not among the experiment's tasks ({', '.join(tasks)})")
        raise _LeftOut(f"its task {task} is not among the experiment's tasks")
    t.columns = (task,)  # Table 5 has one column: a variant needs only that task
    variants = t.variant_list("variants")
    t.need_two(variants, "variants")
    return {"task": task, "variants": variants}


def choose_tables(tables: dict, written: dict | None, variants: dict[str, tuple[str, ...]],
                  tasks: tuple[str, ...]) -> TableChoice:
    """The tables to report from the validated `tables` block; `written` is that block as the user wrote it
    (before the schema's defaults were filled in; None: all of it written); `variants`: each reported
    variant's training tasks."""
    makers = {"table1": _table1, "table3": _table3, "table4": _table4,
              "table5": lambda t: _table5(t, tasks), "extensions": _table1}
    chosen, left_out = {}, {}
    for name in TABLES:
        if name == "extensions" and not tables[name]["variants"]:
            continue  # models beyond the paper: a table only where the config lists some
        table = _Table(name, tables[name], written, variants, tasks)
        try:
            chosen[name] = makers[name](table)
        except _LeftOut as reason:
            if table.written:  # the user asked for this table: say why it cannot be built
                raise BamError(f"tables.{name}: {reason}") from None
            left_out[name] = str(reason)
    return TableChoice(chosen, left_out)


def left_out_note(left_out: dict[str, str]) -> str:
    """One sentence for the report: which tables are not built, and why."""
    if not left_out:
        return ""
    parts = [f"Table {name.removeprefix('table')} ({reason})" for name, reason in left_out.items()]
    return "Left out, the schema's default variants for them not being in this config: " + "; ".join(parts) + "."
