"""Writes the example tasks of workflow/configs/own-tasks.yaml (docs/own-tasks.md); the files are committed.

    python examples/own-tasks/make_files.py

Negation (JSON Lines): is the sentence negated? One sentence, labels false/true, scored by F1.
Similarity (CSV): how alike are two sentences, 1-5 (5: the same words), scored by Pearson; no test file.
Both are learnt from which words occur, so the demo's tiny BERT gets above chance in a few hundred steps.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SUBJECTS = ["the dog", "the cat", "a bird", "the child", "my friend", "the teacher", "a farmer", "the old man"]
VERBS = [("runs", "run"), ("sleeps", "sleep"), ("eats", "eat"), ("reads", "read"), ("sings", "sing"),
         ("jumps", "jump"), ("waits", "wait"), ("swims", "swim")]
ENDINGS = ["quickly", "slowly", "today", "at home", "again", "in the park", "every day", "after lunch"]
SIZES = {"train": 400, "dev": 200, "test": 100}


def negation_row(rng) -> dict:
    subject, (verb, bare), ending = (rng.choice(SUBJECTS), VERBS[rng.integers(len(VERBS))], rng.choice(ENDINGS))
    kind = int(rng.integers(4))
    negated = kind < 2
    sentence = [f"{subject} does not {bare} {ending}", f"{subject} never {verb} {ending}",
                f"{subject} {verb} {ending}", f"{subject} always {verb} {ending}"][kind]
    return {"sentence": sentence, "negated": negated}


def similarity_row(rng) -> dict:
    parts = [rng.choice(SUBJECTS), VERBS[rng.integers(len(VERBS))][0], rng.choice(ENDINGS)]
    changed = int(rng.integers(4))  # how many of the three parts the second sentence replaces
    other = list(parts)
    for slot in rng.choice(3, size=changed, replace=False):
        pool = [SUBJECTS, [v for v, _ in VERBS], ENDINGS][slot]
        other[slot] = rng.choice([p for p in pool if p != parts[slot]])
    score = float(np.clip(round(5 - 4 * changed / 3 + rng.normal(0, 0.3), 1), 1, 5))
    return {"sentence1": " ".join(parts), "sentence2": " ".join(other), "score": score}


def main() -> None:
    rng = np.random.default_rng(0)
    (HERE / "negation").mkdir(exist_ok=True)
    (HERE / "similarity").mkdir(exist_ok=True)
    for split, n in SIZES.items():
        rows = [negation_row(rng) for _ in range(n)]
        with open(HERE / "negation" / f"{split}.jsonl", "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps({"sentence": row["sentence"]} if split == "test" else row) + "\n")
    for split in ("train", "dev"):
        with open(HERE / "similarity" / f"{split}.csv", "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, ["sentence1", "sentence2", "score"])
            writer.writeheader()
            writer.writerows(similarity_row(rng) for _ in range(SIZES[split]))


if __name__ == "__main__":
    main()
