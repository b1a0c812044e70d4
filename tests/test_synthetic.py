"""The synthetic suite: GLUE-proportional sizes, determinism, clean dev rules, and its knobs (label noise, sharing)."""

import importlib.util
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from bam_core.data import synthetic
from bam_core.data.splits import fingerprint, schema
from bam_core.data.tasks import get_task


def split(name, which, seed=0, scale=1.0, **knobs):
    return synthetic.generate_split(get_task(name), which, seed, scale, **knobs)


def rows(name, which, **kw):
    return split(name, which, **kw).to_pylist()


def test_sizes_follow_glue_times_a_hundredth_with_floors():
    assert synthetic.split_sizes("MNLI", 1.0) == {"train": 3927, "dev": 500, "test": 500}
    assert synthetic.split_sizes("QQP", 1.0) == {"train": 3638, "dev": 500, "test": 500}
    assert synthetic.split_sizes("SST-2", 1.0) == {"train": 673, "dev": 500, "test": 500}
    assert synthetic.split_sizes("CoLA", 1.0) == {"train": 300, "dev": 500, "test": 500}  # floors
    assert synthetic.split_sizes("RTE", 1.0) == {"train": 300, "dev": 500, "test": 500}
    assert synthetic.split_sizes("MNLI", 5.0) == {"train": 19635, "dev": 2454, "test": 2454}
    assert split("RTE", "train").num_rows == 300 and split("RTE", "dev").num_rows == 500


def test_schema_and_test_labels_dropped():
    for name in synthetic.SUITE:
        task = get_task(name)
        table = split(name, "test", scale=0.3)
        assert table.schema == schema(task)
        assert table.column("label").null_count == table.num_rows
        assert table.column("idx").to_pylist() == list(range(table.num_rows))
        assert (table.column("text_b").null_count == 0) == task.pair
    assert split("STS-B", "dev").schema.field("label").type == pa.float64()


def parquet_bytes(table):
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def test_same_seed_same_content_other_seed_other_content():
    a, b = split("MNLI", "train", seed=3), split("MNLI", "train", seed=3)
    assert a.equals(b) and fingerprint(a) == fingerprint(b)
    for name in synthetic.SUITE:
        assert parquet_bytes(split(name, "train", seed=3)) == parquet_bytes(split(name, "train", seed=3))
    assert fingerprint(split("MNLI", "train", seed=4)) != fingerprint(a)
    # A task's rows depend on (seed, task, split) only, not on what was generated before.
    split("QQP", "train", seed=3)
    assert split("MNLI", "train", seed=3).equals(a)


def test_sentences_are_short():
    for name in synthetic.SUITE:
        for which in ("train", "dev"):
            for r in rows(name, which, scale=0.5):
                for text in (r["text_a"], r["text_b"]):
                    if text is not None:
                        assert 5 <= len(text.split()) <= 21, (name, text)  # 5-20 words + final punctuation


def words(text):
    return set(text.split())


def nli_rule(r):
    """0 entailment: hypothesis words are premise words; 2 contradiction: a negation; 1 neutral: new content."""
    a, b = words(r["text_a"]), words(r["text_b"])
    if b & {"never", "not"}:
        return 2
    return 0 if b <= a else 1


def sentiment_rule(r):
    """The last judgement decides: a positive word, unless negated ("is not good" is negative)."""
    last = words(r["text_a"].split(" but ")[-1])
    return int(bool(last & set(synthetic.POSITIVE)) != ("not" in last))


def test_dev_labels_are_clean():
    mnli = rows("MNLI", "dev")
    assert [nli_rule(r) for r in mnli] == [r["label"] for r in mnli]
    assert {r["label"] for r in mnli} == {0, 1, 2}
    rte = rows("RTE", "dev")
    assert [min(nli_rule(r), 1) for r in rte] == [r["label"] for r in rte]
    sst = rows("SST-2", "dev")
    assert [sentiment_rule(r) for r in sst] == [r["label"] for r in sst]
    qnli = rows("QNLI", "dev")  # "the KEY verb what ?": answered when the sentence names KEY
    assert [0 if r["text_a"].split()[1] in words(r["text_b"]) else 1 for r in qnli] == [r["label"] for r in qnli]
    cola = rows("CoLA", "dev")  # acceptable sentences start with a determiner and end with a noun (+ place)
    for r in cola:
        if r["label"] == 1:
            assert r["text_a"].split()[0] in synthetic.DETERMINERS
    # agreement violations: a base-form verb appears in unacceptable sentences only, 0.9 x 2/5 of them
    base = set(synthetic.BASE_FORMS.values())
    agreement = [r["label"] for r in cola if base & set(r["text_a"].split())]
    unacceptable = sum(r["label"] == 0 for r in cola)
    assert set(agreement) == {0} and 0.30 < len(agreement) / unacceptable < 0.42
    stsb = [r["label"] for r in rows("STS-B", "dev")]
    assert all(0 <= y <= 5 and abs(y * 5 - round(y * 5)) < 1e-9 for y in stsb)  # multiples of 0.2
    assert min(stsb) == 0.0 and max(stsb) == 5.0
    canonical = {syn: base for base, syn in synthetic.NOUNS + synthetic.VERBS + synthetic.ADJECTIVES}
    for r in rows("STS-B", "dev"):
        if r["label"] == 5.0:  # identical content: the same words up to synonyms
            assert [canonical.get(w, w) for w in r["text_b"].split()] == r["text_a"].split()


def test_only_cola_verb_initial_violations_start_with_a_verb():
    """A sentence-initial verb marks CoLA-like's verb-initial violation and nothing else in the suite (when
    QNLI-like asked "what does the dog chases ?", the multi-task models learnt that a sentence-final verb, then
    CoLA-like's violation, is normal); and no sentence of the suite ends in a verb."""
    verbs = {form for concept in synthetic.VERBS for form in concept} | set(synthetic.BASE_FORMS.values())

    def starts_with_verb(text):
        return text.split()[0] in verbs

    def ends_in_verb(text):
        return text.split()[-2] in verbs  # the word before "." or "?"

    for task in synthetic.SUITE:
        for which in ("train", "dev"):
            texts = [t for r in rows(task, which) for t in (r["text_a"], r.get("text_b")) if t]
            assert not any(map(ends_in_verb, texts)), task
            assert task == "CoLA" or not any(map(starts_with_verb, texts)), task
    cola = rows("CoLA", "dev")
    verb_initial = [r["label"] for r in cola if starts_with_verb(r["text_a"])]
    unacceptable = sum(r["label"] == 0 for r in cola)
    assert set(verb_initial) == {0} and 0.12 < len(verb_initial) / unacceptable < 0.24  # 0.9 x one kind in five


def test_cola_kinds_reads_each_violation_back_from_the_words():
    """demo-tuning/cola_kinds.py's inverse of cola(): hand-made examples of each kind, then the generated dev split,
    whose labels it must match, with each violation drawn as often as cola() draws it."""
    spec = importlib.util.spec_from_file_location("cola_kinds", Path(__file__).parents[1] / "demo-tuning" / "cola_kinds.py")
    cola_kinds = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cola_kinds)
    examples = {"the big dog chases a cat near the river .": "acceptable",
                "big the dog chases a cat near the river .": "determiner after its noun",
                "chases the big dog a cat near the river .": "verb-initial",
                "river the near cat a chases dog big the .": "reversed",
                "the big dog chase a cat near the river .": "agreement",
                "the big dog chases a dog near the river .": "binding"}
    assert {text: cola_kinds.violation(text) for text in examples} == examples
    assert cola_kinds.violation("the big dog a cat near the river chases .") == "verb-final"  # the suite's kind before 80bba1b
    cola = rows("CoLA", "dev")
    kinds = [cola_kinds.violation(r["text_a"]) for r in cola]
    assert [int(k == "acceptable") for k in kinds] == [r["label"] for r in cola]
    share = {k: kinds.count(k) / (len(kinds) - kinds.count("acceptable")) for k in cola_kinds.KINDS[1:]}
    expected = {"determiner after its noun": 0.18, "verb-initial": 0.18, "reversed": 0.18, "agreement": 0.36,
                "binding": 0.1}  # binding one in ten, the others 0.9 x 1/5 (agreement twice)
    assert all(abs(share[k] - expected[k]) < 0.06 for k in expected), share


def test_label_noise_replaces_that_fraction_of_training_labels():
    sst = rows("SST-2", "train", label_noise=0.3)
    flipped = sum(sentiment_rule(r) != r["label"] for r in sst) / len(sst)
    assert 0.25 < flipped < 0.35
    mnli = rows("MNLI", "train")  # the default, 0.1
    flipped = sum(nli_rule(r) != r["label"] for r in mnli) / len(mnli)
    assert 0.08 < flipped < 0.12
    stsb = [r["label"] for r in rows("STS-B", "train", scale=3.0)]
    assert any(abs(y * 5 - round(y * 5)) > 1e-6 for y in stsb)  # noise moved scores off the 0.2 grid
    assert all(0.0 <= y <= 5.0 for y in stsb)


def test_no_label_noise_training_labels_follow_the_rule():
    for name, rule in (("MNLI", nli_rule), ("RTE", lambda r: min(nli_rule(r), 1)), ("SST-2", sentiment_rule)):
        train = rows(name, "train", label_noise=0.0)
        assert [rule(r) for r in train] == [r["label"] for r in train], name
    stsb = [r["label"] for r in rows("STS-B", "train", label_noise=0.0)]
    assert all(abs(y * 5 - round(y * 5)) < 1e-9 for y in stsb)


def verb_class(text):
    """The RTE-like task's own rule: the hypothesis's verb concept has an even index in VERBS."""
    return next(i for i, v in enumerate(synthetic.VERBS) if set(v) & words(text)) % 2


def test_sharing_zero_rte_follows_its_own_rule_independent_of_entailment():
    rte = rows("RTE", "dev", sharing=0.0)
    assert [verb_class(r["text_b"]) for r in rte] == [r["label"] for r in rte]
    agree = sum(min(nli_rule(r), 1) == r["label"] for r in rte) / len(rte)
    assert 0.45 < agree < 0.55  # 500 rows: independent rules agree about half the time
    half = rows("RTE", "dev", sharing=0.5)
    shared = sum(min(nli_rule(r), 1) == r["label"] for r in half) / len(half)
    assert 0.7 < shared < 0.8  # half shared (agree), half own (agree half the time)


def test_sharing_zero_sentiment_and_acceptability_share_no_content_words():
    content = {w for pool in (synthetic.NOUNS, synthetic.VERBS, synthetic.ADJECTIVES) for c in pool for w in c}
    sst0 = set().union(*(words(r["text_a"]) for r in rows("SST-2", "train", sharing=0.0)))
    sst1 = set().union(*(words(r["text_a"]) for r in rows("SST-2", "train", sharing=1.0)))
    assert not sst0 & content
    assert len(sst1 & content) > 30  # the common nouns, verbs and adjectives of the grammar


def test_paraphrases_are_the_same_words_up_to_synonyms_and_order():
    canonical = {syn: base for base, syn in synthetic.NOUNS + synthetic.VERBS + synthetic.ADJECTIVES}
    for name in ("MRPC", "QQP"):
        labels = []
        for r in rows(name, "dev"):  # sharing 1: MRPC-like follows QQP-like's rule
            b = r["text_b"].split()[1:] if name == "QQP" else r["text_b"].split()  # drop the question word
            labels.append(int(sorted(canonical.get(w, w) for w in b) == sorted(r["text_a"].split())))
        assert labels == [r["label"] for r in rows(name, "dev")]
        assert 0.3 < sum(labels) / len(labels) < 0.7

