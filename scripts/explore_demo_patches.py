"""Generator variants tried by `explore_demo.py --patch NAME` (monkeypatched into bam_core.data.synthetic),
kept so that the log's configurations can be rerun. polarity8 is the suite's own since the f1 commit, vibind10a2
since session 17; a configuration of the log from before session 17 reruns with --patch verbfinal added."""
from bam_core.data import synthetic as S

VERB_FORMS = {form for v in S.VERBS for form in v}


def verb_final(g, words):
    """CoLA-like's verb-final violation applied to a rendered sentence: "the dog the cat chases"."""
    i = next(i for i, x in enumerate(words) if x in VERB_FORMS)
    return words[:i] + words[i + 1 :] + [words[i]]


def scrambled(g, words):
    """One of CoLA-like's word-order violations applied to a rendered sentence (any surface form)."""
    w = list(words)
    kind = int(g.rng.integers(3))
    if kind == 0:
        w[0], w[1] = w[1], w[0]
    elif kind == 1:
        w = verb_final(g, w)
    else:
        w = w[::-1]
    return w


def paraphrase_pair_with(g, question, third, scramble=scrambled):
    """paraphrase_pair() with a third kind of non-paraphrase: third(g, clause) -> (other clause, whether to
    scramble(g, words) the second sentence's words). The RNG draws are paraphrase_pair()'s plus the third
    kind's."""
    c = g.clause()
    equivalent = g.rng.random() < 0.5
    scrambling = False
    if equivalent:
        other = c
    else:
        r = g.rng.random()
        if r < 1 / 3:
            other = g.replace_content(c, 2)
        elif r < 2 / 3:
            other = {**c, "neg": g.pick(S.NEGATIONS)}
        else:
            other, scrambling = third(g, c)
    a = g.words(c)
    b = g.words(other, swap_p=0.5, front_place=g.rng.random() < 0.5)
    if scrambling:
        b = scramble(g, b)
    if question:
        qw = g.pick(S.QUESTION_WORDS)
        return " ".join(["does", *a]) + " ?", " ".join([qw, "does", *b]) + " ?", int(equivalent)
    return S.sentence(a), S.sentence(b), int(equivalent)


def paws(g, question):
    """Non-equivalent pairs: two concepts replaced, negated, or subject and object swapped (1/3 each)."""
    return paraphrase_pair_with(g, question, lambda g, c: (
        {**c, "noun": c["noun"][::-1], "adj": c["adj"][::-1], "det": c["det"][::-1]}, False))


PATCHES = {"paws": lambda: setattr(S, "paraphrase_pair", paws)}


def polarity(n):
    """n polarity words a side (the first n of each list)."""
    S.POSITIVE[:] = S.POSITIVE[:n]
    S.NEGATIVE[:] = S.NEGATIVE[:n]


PATCHES["polarity8"] = lambda: polarity(8)
PATCHES["polarity4"] = lambda: polarity(4)


PATCHES["agreement"] = lambda: None  # CoLA-like's agreement violations: the suite's own since they were tried


def train_size(task_name, n):
    """One task's training set at n rows (GLUE's CoLA, 8.5k, is larger than MRPC, STS-B and RTE)."""
    sizes = S.split_sizes

    def patched(task, scale):
        out = sizes(task, scale)
        return {**out, "train": n} if task == task_name else out

    S.split_sizes = patched


PATCHES.update({f"cola{n}": (lambda n=n: train_size("CoLA", n)) for n in (600, 900, 1200)})
PATCHES.update({f"sst{n}": (lambda n=n: train_size("SST-2", n)) for n in (600, 800, 1000)})


def nli_draw(g, entailed_p):
    """nli()'s premise, entailed hypothesis clause and label, drawn as nli() draws them (the patches below
    change only how a neutral or contradicting hypothesis is made from the clause)."""
    clauses = [g.clause() for _ in range(1 if g.rng.random() < 0.5 else 2)]
    clauses[-1]["place"] = None if len(clauses) == 2 else clauses[-1]["place"]
    premise = S.sentence([w for i, c in enumerate(clauses) for w in ([] if i == 0 else ["and"]) + g.words(c)])
    h = dict(clauses[int(g.rng.integers(len(clauses)))])
    h.update(adj=[None, None], place=None)
    label = 0 if g.rng.random() < entailed_p else int(g.rng.integers(1, 3))
    return premise, h, label


def new_content(g, premise, h):
    """nli()'s neutral hypothesis: the clause with one concept the premise does not mention."""
    seen = set(premise.split())
    return next(n for n in (g.replace_content(h, 1) for _ in range(50)) if not seen >= set(g.words(n)))


def nli_roles(g, entailed_p=1 / 3):
    """nli() with half of the neutral hypotheses made by swapping subject and object ("the cat chases the
    dog" from "the dog chases the cat"): the same words as an entailed one, so NLI needs word order, as
    real MNLI does (who did what to whom); RTE-like shares the rule."""
    premise, h, label = nli_draw(g, entailed_p)
    if label == 1 and g.rng.random() < 0.5:
        h.update(noun=h["noun"][::-1], det=h["det"][::-1])
    elif label == 1:
        h = new_content(g, premise, h)
    elif label == 2:
        h["neg"] = g.pick(S.NEGATIONS)
    return premise, S.sentence(g.words(h)), label


PATCHES["roles"] = lambda: setattr(S, "nli", nli_roles)


def scramble(g, question):
    """A third of the non-paraphrases scramble the second sentence's word order as CoLA-like's violations do
    (PAWS's word scrambling): the same words, not a paraphrase. QQP-like then needs what CoLA-like judges, so
    multi-task training can carry it (MRPC-like shares the rule)."""
    return paraphrase_pair_with(g, question, lambda g, c: (c, True))


PATCHES["scramble"] = lambda: setattr(S, "paraphrase_pair", scramble)


def base_form(verb: str) -> str:
    return S.BASE_FORMS.get(verb, verb[:-1])  # the synonyms all take a plain -s ("spots", "purchases")


def words_does_not_base(self, c, swap_p=0.0, front_place=False):
    """Grammar.words() with "does not" before the verb's base form ("does not chase"); the suite renders
    "does not chases". CoLA-like has no negation; the pair tasks' text changes, and with it the MLM encoder."""
    if c["neg"] == "not":
        c = {**c, "neg": None, "verb": tuple(f"does not {base_form(v)}" for v in c["verb"])}
    return original_words(self, c, swap_p, front_place)


original_words = S.Grammar.words
PATCHES["doesnot"] = lambda: setattr(S.Grammar, "words", words_does_not_base)


def vfinal(g, question):
    """A third of the non-paraphrases move the second sentence's verb to its end: the same words, not a
    paraphrase (PAWS-like), and the one violation of CoLA-like that the multi-task models miss."""
    return paraphrase_pair_with(g, question, lambda g, c: (c, True), scramble=verb_final)


PATCHES["vfinal"] = lambda: setattr(S, "paraphrase_pair", vfinal)


def base_verb(words):
    """The clause's verb in its base form ("does the dog chase ..."); a clause has one verb."""
    return [base_form(x) if x in VERB_FORMS else x for x in words]


def question_pair(g, question):
    """paraphrase_pair() with do-support in the questions ("does the dog chase the cat ?"); the suite renders
    "does the dog chases the cat ?". The RNG draws are paraphrase_pair()'s."""
    a, b, label = original_pair(g, question)
    if not question:
        return a, b, label
    return " ".join(base_verb(a.split())), " ".join(base_verb(b.split())), label


def qnli_do(g):
    """qnli() with "what does the dog chase ?" for "what does the dog chases ?"."""
    question, sentence, label = original_qnli(g)
    return " ".join(base_verb(question.split())), sentence, label


original_pair, original_qnli = S.paraphrase_pair, S.qnli


def install_do_support():
    """English do-support everywhere: "does not chase", "does the dog chase ...?", "what does the dog chase ?".
    Then a third-person verb ends no well-formed sentence or question of any task, as it ends CoLA-like's
    verb-final violations; and base forms appear in well-formed text, after "does"."""
    S.Grammar.words = words_does_not_base
    S.paraphrase_pair = question_pair
    S.qnli = qnli_do
    S.GENERATORS["QNLI"] = qnli_do


PATCHES["dosupport"] = install_do_support


def qnli_verb(g):
    """qnli() whose question's verb matters: the sentence answers "what does the dog chase ?" when it names the
    dog and its verb is chase's concept; not answered: another noun (half) or another verb (half). QNLI-like
    then reads the question's last word, where CoLA-like's verb-final violations put the verb."""
    c = g.clause()
    key, other = c["noun"]
    question = " ".join([g.pick(S.QUESTION_WORDS), "does", "the", key[0], base_form(g.form(c["verb"]))]) + " ?"
    answers = g.rng.random() < 0.5
    s = {**g.clause(), "place": None}
    s["verb"] = c["verb"]
    mentioned = key
    if not answers and g.rng.random() < 0.5:
        mentioned = g.new_concept(S.NOUNS, [key, other])
    elif not answers:
        s["verb"] = g.new_concept(S.VERBS, [c["verb"]])
    s["noun"] = [mentioned, other] if g.rng.random() < 0.5 else [other, mentioned]
    return question, S.sentence(g.words(s, swap_p=0.5)), 0 if answers else 1


def install_qnli_verb():
    install_do_support()
    S.qnli = S.GENERATORS["QNLI"] = qnli_verb


PATCHES["qnliverb"] = install_qnli_verb


def qnli_what(g):
    """qnli() as the suite rendered its questions before session 12: "what does the dog chases ?" (the RNG draws
    are qnli()'s), to rerun the log's earlier configurations."""
    c = g.clause()
    key, other = c["noun"]
    question = " ".join([g.pick(S.QUESTION_WORDS), "does", "the", key[0], g.form(c["verb"])]) + " ?"
    answers = g.rng.random() < 0.5
    s = {**g.clause(), "place": None}
    mentioned = key if answers else g.new_concept(S.NOUNS, [key, other])
    s["noun"] = [mentioned, other] if g.rng.random() < 0.5 else [other, mentioned]
    return question, S.sentence(g.words(s)), 0 if answers else 1


def install_qnli_what():
    S.qnli = S.GENERATORS["QNLI"] = qnli_what


PATCHES["qwhat"] = install_qnli_what
PATCHES["qecho"] = lambda: None  # echo questions ("the dog chases what ?"): the suite's own since session 12


def before_verb(words, word):
    """The rendered clause with `word` inserted before its verb."""
    i = next(i for i, x in enumerate(words) if x in VERB_FORMS)
    return words[:i] + [word] + words[i:]


HEDGES = ["maybe", "perhaps", "probably", "possibly", "likely", "reportedly", "apparently", "allegedly",
          "supposedly", "seemingly", "presumably", "arguably"]


def nli_hedge(g, entailed_p=1 / 3):
    """nli() with half of the neutral hypotheses made by hedging an entailed one ("the dog maybe chases the
    cat"): a word-level cue, one of twelve words, common in MNLI-like's ~2k examples and rare in RTE-like's
    300, meant for RTE-like's single-task teacher to miss where a multi-task model learns it from MNLI-like.
    It did not miss it (scripts/explore_demo.log.md, session 15)."""
    premise, h, label = nli_draw(g, entailed_p)
    hedge = None
    if label == 1 and g.rng.random() < 0.5:
        hedge = g.pick(HEDGES)
    elif label == 1:
        h = new_content(g, premise, h)
    elif label == 2:
        h["neg"] = g.pick(S.NEGATIONS)
    words = g.words(h)
    return premise, S.sentence(before_verb(words, hedge) if hedge else words), label


PATCHES["hedge"] = lambda: setattr(S, "nli", nli_hedge)


MODALS = ["maybe", "perhaps", "probably", "possibly", "likely", "reportedly", "apparently", "allegedly",
          "supposedly", "seemingly", "presumably", "arguably", "rarely", "seldom", "hardly", "barely", "almost",
          "nearly", "once", "formerly", "sometimes", "occasionally", "briefly", "partly"]


def insert_modal(g, words):
    """A modal adverb before the clause's verb: "the dog maybe chases the cat" no longer states the same thing."""
    return before_verb(words, g.pick(MODALS))


def paraphrase_modal(g, question):
    """A third of the non-paraphrases insert a modal adverb into the second sentence (the same content)."""
    return paraphrase_pair_with(g, question, lambda g, c: (c, True), scramble=insert_modal)


def nli_modal(g, entailed_p=1 / 3):
    """A quarter of the neutral hypotheses are an entailed one with a modal adverb inserted: a cue learnt from
    QQP-like's 266 such pairs (24 words), seen 165 times in MNLI-like and ~20 in RTE-like."""
    premise, h, label = nli_draw(g, entailed_p)
    modal = label == 1 and g.rng.random() < 0.25
    if label == 1 and not modal:
        h = new_content(g, premise, h)
    elif label == 2:
        h["neg"] = g.pick(S.NEGATIONS)
    words = g.words(h)
    return premise, S.sentence(insert_modal(g, words) if modal else words), label


def install_modal():
    S.paraphrase_pair = paraphrase_modal
    S.nli = nli_modal


PATCHES["modal"] = install_modal



def cola_with(kinds, draw_kind=None):
    """cola() with its violations made by kinds[k](g, clause, words, verb index) -> words, k = draw_kind(g) (by
    default one of len(kinds) alike). The RNG draws are cola()'s, plus whatever a kind draws."""
    def cola(g):
        c = g.clause()
        w = g.words(c)
        if g.rng.random() < 0.5:
            return S.sentence(w), None, 1
        kind = draw_kind(g) if draw_kind else int(g.rng.integers(len(kinds)))
        verb = next(i for i, x in enumerate(w) if x in S.BASE_FORMS)
        return S.sentence(kinds[kind](g, c, w, verb)), None, 0
    return cola


def determiner_after_noun(g, c, w, verb):
    return [w[1], w[0], *w[2:]]


def verb_initial(g, c, w, verb):
    """What replaced the suite's verb-final violation ("the dog the cat chases .", told only by the last word, which
    the multi-task models at hidden 64 missed on most seeds: sessions 10-16): "chases the dog a cat .", told by the
    first word, as the other two word-order kinds are. The suite's own since session 17."""
    return [w[verb]] + w[:verb] + w[verb + 1 :]


def reversed_order(g, c, w, verb):
    return w[::-1]


def agreement(g, c, w, verb):
    return [*w[:verb], S.BASE_FORMS[w[verb]], *w[verb + 1 :]]


def verb_initial_or_final(g, c, w, verb):
    return verb_initial(g, c, w, verb) if g.rng.random() < 0.5 else verb_final(g, w)


def adjacent_swap(g, c, w, verb):
    """Two neighbouring words swapped somewhere after the first: "the dog chases cat a"."""
    i = int(g.rng.integers(1, len(w) - 1))
    return [*w[:i], w[i + 1], w[i], *w[i + 2 :]]


def binding(g, c, w, verb):
    """The clause's object the same noun as its subject ("the dog chases the dog": the suite's clauses never name
    a noun twice). Telling it needs the two nouns matched, which no model of this size learnt (sessions 6-16)."""
    return g.words({**c, "noun": [c["noun"][0], c["noun"][0]]})


KINDS_VI = [determiner_after_noun, verb_initial, reversed_order, agreement]


def binding_tenth(others):
    """draw_kind for cola_with(): the binding kind (listed last) for a tenth of the violations, else one of the
    `others` before it alike."""
    return lambda g: others if g.rng.random() < 0.1 else int(g.rng.integers(others))


PATCHES["vinitial"] = lambda: S.GENERATORS.update(CoLA=cola_with(KINDS_VI))
PATCHES["vimix"] = lambda: S.GENERATORS.update(
    CoLA=cola_with([determiner_after_noun, verb_initial_or_final, reversed_order, agreement]))
PATCHES["viswap"] = lambda: S.GENERATORS.update(
    CoLA=cola_with([determiner_after_noun, verb_initial, adjacent_swap, agreement]))
PATCHES["vibind"] = lambda: S.GENERATORS.update(CoLA=cola_with([*KINDS_VI, binding]))  # one kind in five
PATCHES["vibind10"] = lambda: S.GENERATORS.update(CoLA=cola_with([*KINDS_VI, binding], binding_tenth(4)))
PATCHES["vibind10a2"] = lambda: None  # agreement two in five: the suite's own since session 17 (same bytes, by hash)


def verb_final_kind(g, c, w, verb):
    return verb_final(g, w)


# The suite's CoLA-like before session 17 (determiner after its noun, verb-final, reversed, agreement, one in four
# each), to rerun the log's earlier configurations: --patch agreement verbfinal.
PATCHES["verbfinal"] = lambda: S.GENERATORS.update(
    CoLA=cola_with([determiner_after_noun, verb_final_kind, reversed_order, agreement]))
