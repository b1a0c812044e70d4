"""CoLA-like's dev accuracy by kind of sentence, per variant: which of the five violations of the synthetic
suite's cola() (bam_core/data/synthetic.py) each model learnt, and on how many seeds.

    python demo-tuning/cola_kinds.py .                      # a clone where `snakemake --cores 2` finished
    python demo-tuning/cola_kinds.py /tmp/explore single multi   # an explore_demo.py --out directory, two variants

A cell is the median over seeds of the accuracy on that kind, then on how many seeds it was at least 80%
(learnt). The kind of a dev sentence is read back from its words (`violation`, the inverse of cola()), and
checked against the clean dev labels before anything is printed.
"""

import sys
from pathlib import Path

import pandas as pd

from bam_core.data.synthetic import BASE_FORMS, DETERMINERS, NOUNS

KINDS = ["acceptable", "determiner after its noun", "verb-initial", "reversed", "agreement", "binding"]
PATCH_KINDS = ["verb-final"]  # "the dog a cat chases .": the suite's before 80bba1b
NOUN_FORMS = {form for concept in NOUNS for form in concept}
LEARNT = 80.0


def violation(text: str) -> str:
    """The kind of a CoLA-like sentence. Acceptable clauses start with a determiner and end with a noun or a
    place; cola() swaps the first two words, moves the verb to the front, reverses the words, puts the verb
    in its base form ("the dog chase the cat") or names the subject again as the object ("the dog chases the
    dog")."""
    w = text.split()[:-1]  # the final "."
    if set(w) & set(BASE_FORMS.values()):
        return "agreement"
    if w[-1] in DETERMINERS:
        return "reversed"
    if w[-1] in BASE_FORMS:  # --patch verbfinal
        return "verb-final"
    if w[0] in BASE_FORMS:
        return "verb-initial"
    nouns = [x for x in w if x in NOUN_FORMS]
    if len(nouns) > 1 and nouns[0] == nouns[1]:
        return "binding"
    return "acceptable" if w[0] in DETERMINERS else "determiner after its noun"


def dev_kinds(data_dir: Path) -> pd.DataFrame:
    dev = pd.read_parquet(data_dir / "CoLA" / "dev.parquet", columns=["idx", "text_a", "label"])
    dev["kind"] = dev.text_a.map(violation)
    wrong = dev[(dev.kind == "acceptable") != (dev.label == 1)]
    if len(wrong):
        raise SystemExit(f"{len(wrong)} CoLA-like dev sentences whose kind disagrees with their label, e.g. "
                         f"{wrong.text_a.iloc[0]!r}: not the synthetic suite's CoLA-like?")
    return dev[["idx", "kind"]]


def accuracy_by_kind(predictions: Path, kinds: pd.DataFrame) -> pd.Series:
    p = pd.read_parquet(predictions).query("task == 'CoLA' and split == 'dev'").merge(kinds, on="idx")
    return (p.prediction == p.label).groupby(p.kind).mean().mul(100).reindex(KINDS + PATCH_KINDS)


def table(root: Path, variants: list[str]) -> pd.DataFrame:
    results = root / "results" if (root / "results").is_dir() else root  # a workflow clone, or explore's --out
    kinds = dev_kinds(results / "data")
    rows = []
    for path in sorted((results / "runs").glob("*/*/**/predictions.parquet")):
        variant = path.relative_to(results / "runs").parts[0]
        accuracy = accuracy_by_kind(path, kinds)
        if (not variants or variant in variants) and accuracy.notna().any():  # not a run without CoLA
            rows.append(accuracy.rename(variant))
    if not rows:
        raise SystemExit(f"no CoLA predictions under {results / 'runs'}")
    per_run = pd.DataFrame(rows).dropna(axis=1, how="all")  # a suite has verb-final or verb-initial sentences
    by_variant = per_run.groupby(level=0, sort=False)
    cells = by_variant.median().map("{:.0f}".format) + " (" + by_variant.agg(
        lambda s: f"{(s >= LEARNT).sum()}/{len(s)}") + ")"
    counts = kinds.kind.value_counts()
    return cells.rename(columns={k: f"{k} ({counts.get(k, 0)})" for k in per_run.columns})


if __name__ == "__main__":
    print(table(Path(sys.argv[1] if len(sys.argv) > 1 else "."), sys.argv[2:]).to_markdown())
