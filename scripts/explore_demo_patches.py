"""Generator variants tried by `explore_demo.py --patch NAME` (monkeypatched into bam_core.data.synthetic),
kept so that the log's configurations can be rerun. polarity8 is the suite's own since the f1 commit."""
from bam_core.data import synthetic as S


def paws(g, question):
    """Non-equivalent pairs: two concepts replaced, negated, or subject and object swapped (1/3 each)."""
    c = g.clause()
    equivalent = g.rng.random() < 0.5
    if equivalent:
        other = c
    else:
        r = g.rng.random()
        if r < 1 / 3:
            other = g.replace_content(c, 2)
        elif r < 2 / 3:
            other = {**c, "neg": g.pick(S.NEGATIONS)}
        else:
            other = {**c, "noun": c["noun"][::-1], "adj": c["adj"][::-1], "det": c["det"][::-1]}
    a = g.words(c)
    b = g.words(other, swap_p=0.5, front_place=g.rng.random() < 0.5)
    if question:
        qw = g.pick(S.QUESTION_WORDS)
        return " ".join(["does", *a]) + " ?", " ".join([qw, "does", *b]) + " ?", int(equivalent)
    return S.sentence(a), S.sentence(b), int(equivalent)


PATCHES = {"paws": lambda: setattr(S, "paraphrase_pair", paws)}


def fewer_polarity_words():
    S.POSITIVE[:] = S.POSITIVE[:8]
    S.NEGATIVE[:] = S.NEGATIVE[:8]


PATCHES["polarity8"] = fewer_polarity_words


PATCHES["agreement"] = lambda: None  # CoLA-like's agreement violations: the suite's own since they were tried


def cola_train(n):
    """CoLA-like's training set at n rows (GLUE's CoLA, 8.5k, is larger than MRPC, STS-B and RTE)."""
    sizes = S.split_sizes

    def patched(task, scale):
        out = sizes(task, scale)
        return {**out, "train": n} if task == "CoLA" else out

    S.split_sizes = patched


PATCHES.update({f"cola{n}": (lambda n=n: cola_train(n)) for n in (600, 900, 1200)})
