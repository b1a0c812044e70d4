"""A seeded, GLUE-shaped synthetic suite: eight tasks named after the GLUE tasks they stand in for.

Built so that the paper's mechanisms have something to act on at demo scale, each property a knob:
- sharing (0-1): the fraction of a small task's examples that follow a larger task's rule. RTE-like
  labels entailment by MNLI-like's rule, MRPC-like judges paraphrase by QQP-like's rule, SST-2-like
  talks about the clauses CoLA-like judges (shared vocabulary). The other examples follow the task's
  own rule, independent of the large task's (sharing 0: nothing to transfer).
- label_noise (0-1): the fraction of classification training labels replaced by another class
  (regression: Gaussian noise of sd 2.5 x label_noise on the 0-5 scale). Dev and test stay clean,
  so a teacher that has learnt the rule gives cleaner targets than the training labels.
- scale: train sizes are GLUE's x 0.01 x scale with a floor of 300 (below it the demo model learns
  nothing on its own): MNLI-like is 13x RTE-like at scale 1 (GLUE: 160x), so task sampling matters.
  Dev and test have at least 500 rows (one example moves a score by at most 0.2 points).

The sentences come from a tiny grammar over a vocabulary of about 200 words: each content word is a
*concept* with two synonymous surface forms, so paraphrases can swap synonyms. Each split draws from
its own RNG derived from (seed, task name, split): generating one task does not depend on which others
are generated. Test labels are dropped, as in GLUE.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa

from bam_core.data.splits import make_split
from bam_core.data.tasks import Task, get_task
from bam_core.errors import BamError

GLUE_TRAIN_SIZES = {"CoLA": 8551, "SST-2": 67349, "MRPC": 3668, "STS-B": 5749, "QQP": 363846,
                    "MNLI": 392702, "QNLI": 104743, "RTE": 2490, "WNLI": 635}
SIZE_FACTOR = 0.01  # scale 1.0: GLUE's train sizes x 0.01
TRAIN_FLOOR, EVAL_FLOOR = 300, 500  # a small task must be learnable on its own by the demo model; dev scores precise
LABEL_NOISE = 0.1  # the defaults of data.synthetic in the workflow schema
SHARING = 1.0
SCORE_NOISE_PER_NOISE = 2.5  # regression noise sd per unit of label_noise (0-5 scale)

# Concepts: (surface form, synonym). Sentences use either form; paraphrases swap them.
NOUNS = [("dog", "hound"), ("cat", "kitty"), ("child", "kid"), ("farmer", "grower"), ("doctor", "medic"),
         ("teacher", "tutor"), ("bird", "fowl"), ("horse", "steed"), ("king", "monarch"), ("boat", "ship"),
         ("car", "auto"), ("house", "home"), ("river", "stream"), ("road", "street"), ("forest", "woods"),
         ("stone", "rock"), ("city", "town"), ("friend", "pal"), ("student", "pupil"), ("baker", "cook"),
         ("soldier", "trooper"), ("sailor", "mariner"), ("lawyer", "attorney"), ("queen", "ruler"),
         ("garden", "yard"), ("hill", "mound"), ("gift", "present"), ("story", "tale"), ("song", "tune"),
         ("lamp", "light")]
VERBS = [("sees", "spots"), ("likes", "enjoys"), ("chases", "pursues"), ("helps", "aids"),
         ("finds", "discovers"), ("builds", "constructs"), ("carries", "hauls"), ("watches", "observes"),
         ("visits", "tours"), ("paints", "colours"), ("buys", "purchases"), ("leaves", "abandons"),
         ("calls", "phones"), ("follows", "trails"), ("pushes", "shoves"), ("fixes", "repairs")]
ADJECTIVES = [("big", "large"), ("small", "little"), ("old", "aged"), ("quick", "fast"), ("quiet", "silent"),
              ("red", "crimson"), ("tall", "high"), ("young", "youthful"), ("wet", "damp"), ("rich", "wealthy"),
              ("dark", "dim"), ("cold", "chilly")]
PLACES = ["near the river", "in the city", "by the road", "at dawn", "in the garden", "on the hill",
          "under the bridge", "behind the wall"]
# Eight polarity words a side: each then appears ~20 times in SST-2-like's ~340 training rows, which the tiny
# model needs (with fifteen a side Single stayed at one class on one seed in three: docs/design-log.md).
POSITIVE = ["good", "great", "wonderful", "charming", "brilliant", "delightful", "lovely", "superb"]
NEGATIVE = ["bad", "awful", "boring", "dull", "terrible", "clumsy", "tedious", "bland"]
FILM = ["movie", "film", "scene", "plot", "acting", "script", "cast", "ending", "score", "director"]
DETERMINERS = ["the", "a", "this", "that", "every"]
NEGATIONS = ["never", "not"]
QUESTION_WORDS = ["what", "whom", "where", "why", "how"]

# Sentences are built from the first two thirds of each concept list; a replaced concept (paraphrase
# negatives, STS-B, neutral hypotheses, unanswered questions) comes from the last third half of the time.
# That gives every pair task a lexical cue besides the cross-sentence match (learnable from a few hundred
# examples), and the cue is shared across tasks: multi-task training can carry it to the small ones.
RARE_P = 0.5


def common(pool):
    return pool[: len(pool) * 2 // 3]


def rare(pool):
    return pool[len(pool) * 2 // 3 :]


SUITE = ("CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE")


def split_sizes(task: str, scale: float) -> dict[str, int]:
    """Rows per split: train GLUE x 0.01 x scale (floor 300); dev ~ train / 8 (floor 500); test = dev."""
    train = max(TRAIN_FLOOR, round(GLUE_TRAIN_SIZES[get_task(task).head or task] * SIZE_FACTOR * scale))
    dev = max(EVAL_FLOOR, round(train / 8))
    return {"train": train, "dev": dev, "test": dev}


def task_rng(seed: int, task: str, split: str) -> np.random.Generator:
    """An RNG that depends only on (seed, task, split): stable across processes (no Python hash())."""
    key = int.from_bytes(hashlib.sha256(f"{task}/{split}".encode()).digest()[:8], "little")
    return np.random.default_rng([seed, key])


class Grammar:
    """Draws clauses as concept lists and renders them to words; all choices come from `rng`."""

    def __init__(self, rng: np.random.Generator, sharing: float = SHARING):
        self.rng = rng
        self.sharing = sharing

    def shared(self) -> bool:
        """Whether this example follows the rule (or vocabulary) its task shares with a larger task."""
        return self.rng.random() < self.sharing

    def pick(self, items):
        return items[int(self.rng.integers(len(items)))]

    def form(self, concept, swap_p: float = 0.0) -> str:
        return concept[1] if self.rng.random() < swap_p else concept[0]

    def clause(self) -> dict:
        """subject (adj?) noun, verb, object (adj?) noun, optional place: the content of one clause."""
        r = self.rng
        nouns = r.choice(len(common(NOUNS)), 2, replace=False)
        return {
            "det": [self.pick(DETERMINERS), self.pick(DETERMINERS)],
            "adj": [self.pick(common(ADJECTIVES)) if r.random() < 0.5 else None for _ in range(2)],
            "noun": [NOUNS[nouns[0]], NOUNS[nouns[1]]],
            "verb": self.pick(common(VERBS)),
            "place": self.pick(PLACES) if r.random() < 0.3 else None,
            "neg": None,
        }

    def words(self, c: dict, swap_p: float = 0.0, front_place: bool = False) -> list[str]:
        def phrase(i):
            adj = [self.form(c["adj"][i], swap_p)] if c["adj"][i] else []
            return [c["det"][i], *adj, self.form(c["noun"][i], swap_p)]

        verb = self.form(c["verb"], swap_p).split()
        if c["neg"]:
            verb = [c["neg"], *verb] if c["neg"] == "never" else ["does", "not", *verb]
        body = phrase(0) + verb + phrase(1)
        place = c["place"].split() if c["place"] else []
        return place + body if front_place else body + place

    def content(self, c: dict) -> list:
        """The clause's content concepts (what overlap and paraphrase are measured on)."""
        return [x for x in (c["adj"][0], c["noun"][0], c["verb"], c["adj"][1], c["noun"][1]) if x]

    def new_concept(self, pool, avoid) -> tuple:
        """A concept not in `avoid`: from the rare third of `pool` with probability RARE_P."""
        part = rare(pool) if self.rng.random() < RARE_P else common(pool)
        return self.pick([x for x in part if x not in avoid])

    def replace_content(self, c: dict, k: int) -> dict:
        """A copy of the clause with k of its content concepts replaced by different ones."""
        c = {**c, "adj": list(c["adj"]), "noun": list(c["noun"])}
        slots = [("adj", 0), ("noun", 0), ("verb", None), ("adj", 1), ("noun", 1)]
        slots = [s for s in slots if (c[s[0]] if s[1] is None else c[s[0]][s[1]])]
        for i in self.rng.choice(len(slots), min(k, len(slots)), replace=False):
            kind, pos = slots[i]
            pool = {"adj": ADJECTIVES, "noun": NOUNS, "verb": VERBS}[kind]
            old = c[kind] if pos is None else c[kind][pos]
            new = self.new_concept(pool, [old, *c["noun"]])
            if pos is None:
                c[kind] = new
            else:
                c[kind][pos] = new
        return c


def sentence(words: list[str]) -> str:
    return " ".join(words) + " ."


# -- the eight tasks: each returns (text_a, text_b or None, clean label) for one example --------------


# Third-person verbs and their base forms: CoLA-like's agreement violations ("the dog chase a cat").
BASE_FORMS = {"sees": "see", "likes": "like", "chases": "chase", "helps": "help", "finds": "find",
              "builds": "build", "carries": "carry", "watches": "watch", "visits": "visit", "paints": "paint",
              "buys": "buy", "leaves": "leave", "calls": "call", "follows": "follow", "pushes": "push",
              "fixes": "fix"}


def cola(g: Grammar):
    """Acceptable (1) or a violation (0) of one of five kinds: three of word order that no other task needs
    (determiner after its noun, verb first, reversed); agreement, a base-form verb, a word-level cue as real
    CoLA's morphological violations are, two violations in five so that the multi-task models learn it on every
    seed; and, one violation in ten, binding ("the dog chases the dog"), which no model of this size learns
    and which keeps every model below the ceiling. The verb is moved first, not last: a violation told only by
    the last word was missed by the multi-task models on most seeds (docs/design-log.md, 2026-12-01)."""
    c = g.clause()
    w = g.words(c)
    if g.rng.random() < 0.5:
        return sentence(w), None, 1
    if g.rng.random() < 0.1:  # binding: the subject's noun again as the object
        return sentence(g.words({**c, "noun": [c["noun"][0], c["noun"][0]]})), None, 0
    kind = int(g.rng.integers(5))
    verb = next(i for i, x in enumerate(w) if x in BASE_FORMS)
    if kind == 0:  # determiner after its noun: "dog the chases ..."
        w[0], w[1] = w[1], w[0]
    elif kind == 1:  # verb-initial: "chases the dog a cat"
        w = [w[verb], *w[:verb], *w[verb + 1 :]]
    elif kind == 2:  # reversed word order
        w = w[::-1]
    else:  # agreement: "the dog chase the cat"
        w[verb] = BASE_FORMS[w[verb]]
    return sentence(w), None, 0


def sst2(g: Grammar):
    """One or two judgements ("X is (not) ADJ"); the last one decides, negation flips it. Shared: X is a
    clause of CoLA-like's grammar ("the dog chases a cat"); own vocabulary: X is a film word."""
    if g.shared():
        topics = [g.words({**g.clause(), "place": None}) + ["and", "it"], ["it"]]
    else:
        topics = [["the", g.pick(FILM)], ["the", g.pick(FILM)]]
    words, positive = [], True
    for i in range(1 if g.rng.random() < 0.7 else 2):
        positive, negated = g.rng.random() < 0.5, g.rng.random() < 0.2
        adjective = g.pick(POSITIVE if positive != negated else NEGATIVE)
        words += ([] if i == 0 else ["but"]) + topics[i] + ["is", *(["not"] if negated else []), adjective]
    return sentence(words), None, int(positive)


def paraphrase_pair(g: Grammar, question: bool):
    """Equivalent: the same content, synonyms swapped and the place phrase moved. Not equivalent: two content
    concepts replaced (2/3 of the time) or the second sentence negated (1/3)."""
    c = g.clause()
    equivalent = g.rng.random() < 0.5
    if equivalent:
        other = c
    elif g.rng.random() < 2 / 3:
        other = g.replace_content(c, 2)
    else:
        other = {**c, "neg": g.pick(NEGATIONS)}
    a = g.words(c)
    b = g.words(other, swap_p=0.5, front_place=g.rng.random() < 0.5)
    if question:
        qw = g.pick(QUESTION_WORDS)
        return " ".join(["does", *a]) + " ?", " ".join([qw, "does", *b]) + " ?", int(equivalent)
    return sentence(a), sentence(b), int(equivalent)


def own_rule(concept, pool) -> int:
    """A small task's own rule, independent of the rule it shares: the concept's class (even/odd index)."""
    return pool.index(concept) % 2


def mrpc(g: Grammar):
    a, b, label = paraphrase_pair(g, question=False)
    if g.shared():
        return a, b, label
    subject = next(n for w in a.split() for n in NOUNS if w == n[0])  # a starts with its subject
    return a, b, own_rule(subject, NOUNS)  # is the first sentence's subject of the even class


def qqp(g: Grammar):
    return paraphrase_pair(g, question=True)


def stsb(g: Grammar):
    c = g.clause()
    n = len(g.content(c))
    k = int(g.rng.integers(n + 1))
    other = g.replace_content(c, k)
    score = round(5.0 * (n - k) / n * 5) / 5  # 5 x overlap fraction, rounded to 0.2
    return sentence(g.words(c)), sentence(g.words(other, swap_p=0.3)), score


def nli(g: Grammar, entailed_p: float = 1 / 3):
    """Premise: one or two clauses. Hypothesis: one of them, shortened (a subset of the premise's words)
    -> entailment (0); the same with a negation -> contradiction (2); with new content -> neutral (1)."""
    clauses = [g.clause() for _ in range(1 if g.rng.random() < 0.5 else 2)]
    clauses[-1]["place"] = None if len(clauses) == 2 else clauses[-1]["place"]  # at most 20 words
    premise = sentence([w for i, c in enumerate(clauses) for w in ([] if i == 0 else ["and"]) + g.words(c)])
    h = dict(clauses[int(g.rng.integers(len(clauses)))])
    h.update(adj=[None, None], place=None)  # dropping modifiers keeps it entailed
    label = 0 if g.rng.random() < entailed_p else int(g.rng.integers(1, 3))
    if label == 1:  # new content: a concept the premise does not mention
        seen = set(premise.split())
        h = next(n for n in (g.replace_content(h, 1) for _ in range(50)) if not seen >= set(g.words(n)))
    elif label == 2:
        h["neg"] = g.pick(NEGATIONS)
    return premise, sentence(g.words(h)), label


def mnli(g: Grammar):
    return nli(g)


def rte(g: Grammar):
    premise, hypothesis, label = nli(g, entailed_p=0.5)  # balanced, as RTE
    if g.shared():
        return premise, hypothesis, 0 if label == 0 else 1  # entailment vs not_entailment
    verb = next(v for v in VERBS if v[0] in hypothesis.split() or v[1] in hypothesis.split())
    return premise, hypothesis, own_rule(verb, VERBS)  # is the hypothesis's verb of the even class


def qnli(g: Grammar):
    """Question about a key noun ("the dog chases what ?"); the sentence answers it (entailment, 0) when it
    mentions that noun. An echo question, not "what does the dog chases ?": that was the suite's only
    well-formed text ending in a verb, where CoLA-like's verb-final violations (the suite's before 80bba1b)
    put it, and with it the multi-task models missed that violation on every seed (docs/design-log.md,
    2026-11-30)."""
    c = g.clause()
    key, other = c["noun"]
    wh = g.pick(QUESTION_WORDS)
    question = " ".join(["the", key[0], g.form(c["verb"]), wh]) + " ?"
    answers = g.rng.random() < 0.5
    s = {**g.clause(), "place": None}  # place phrases name nouns too ("by the road")
    mentioned = key if answers else g.new_concept(NOUNS, [key, other])
    s["noun"] = [mentioned, other] if g.rng.random() < 0.5 else [other, mentioned]
    return question, sentence(g.words(s)), 0 if answers else 1


def wnli(g: Grammar):  # the small held-out pair task (never trained on): entailment is 1 in WNLI's order
    premise, hypothesis, label = nli(g)
    return premise, hypothesis, int(label == 0)


# MNLI-mm and AX (evaluation sets of MNLI) are MNLI's generator on RNG streams of their own.
GENERATORS = {"CoLA": cola, "SST-2": sst2, "MRPC": mrpc, "STS-B": stsb, "QQP": qqp, "MNLI": mnli,
              "QNLI": qnli, "RTE": rte, "WNLI": wnli, "MNLI-mm": mnli, "AX": mnli}


def generate_split(task: Task, split: str, seed: int = 0, scale: float = 1.0,
                   label_noise: float = LABEL_NOISE, sharing: float = SHARING) -> pa.Table:
    if task.name not in GENERATORS:
        raise BamError(f"the synthetic suite has no {task.name}; it has {', '.join(SUITE)}")
    if scale <= 0:
        raise BamError(f"--synthetic-scale must be positive, got {scale}")
    for name, value in (("label-noise", label_noise), ("sharing", sharing)):
        if not 0.0 <= value <= 1.0:
            raise BamError(f"--synthetic-{name} must be in [0, 1], got {value}")
    n = split_sizes(task.name, scale)[split]
    g = Grammar(task_rng(seed, task.name, split), sharing)
    a, b, y = zip(*(GENERATORS[task.name](g) for _ in range(n)))
    labels = np.array(y, dtype=np.float64 if task.is_regression else np.int64)
    if split == "train":  # noisy training labels; dev and test stay clean
        if task.is_regression:
            noise = g.rng.normal(0.0, SCORE_NOISE_PER_NOISE * label_noise, n)
            labels = np.clip(labels + noise, 0.0, 5.0).round(3)
        else:
            k = task.num_outputs
            flip = g.rng.random(n) < label_noise
            labels = np.where(flip, (labels + g.rng.integers(1, k, n)) % k, labels)
    return make_split(task, a, b if task.pair else None, None if split == "test" else labels,
                      where=f"synthetic {task.name} {split}")


def load(task: Task, seed: int = 0, scale: float = 1.0, label_noise: float = LABEL_NOISE,
         sharing: float = SHARING) -> dict[str, pa.Table]:
    """The splits of one synthetic task (task.splits; test labels null, as in GLUE)."""
    return {split: generate_split(task, split, seed, scale, label_noise, sharing) for split in task.splits}
