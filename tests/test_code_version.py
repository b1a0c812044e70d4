"""Code fingerprints: what counts as a change of code, and which modules a stage runs."""

import pytest

from bam_core.experiment.code_version import code_fingerprint, import_closure, normalised_tokens


def test_tokens_of_a_small_module_known_answer():
    source = '"""Module doc."""\n\ndef f(x):  # comment\n    """Doc."""\n    return (x +\n            1)\n'
    assert normalised_tokens(source) == [
        "NAME def", "NAME f", "OP (", "NAME x", "OP )", "OP :", "NEWLINE",
        "INDENT", "NAME return", "OP (", "NAME x", "OP +", "NUMBER 1", "OP )", "NEWLINE", "DEDENT",
    ]


def test_layout_comments_and_docstrings_do_not_count():
    a = 'def f(x):\n    """One."""\n    return x + 1\n'
    b = '# header\n\n\ndef f( x ):\n    """Two, reworded."""\n\n    return x+1  # why\n'
    assert normalised_tokens(a) == normalised_tokens(b)


def test_any_change_of_code_counts():
    base = normalised_tokens("def f(x):\n    return x + 1\n")
    assert normalised_tokens("def f(x):\n    return x + 2\n") != base
    assert normalised_tokens("def f(x):\n    return 'x' + 1\n") != base
    assert normalised_tokens("def f(x):\n    s = 'not a docstring'.upper()\n    return x + 1\n") != base


def test_an_f_string_is_one_token_on_every_python():
    """3.12+ splits f-strings into several tokens; the stream joins them back as 3.11 gives them."""
    assert normalised_tokens('y = f"{x!r:>4} and {x}"\n') == ["NAME y", "OP =", 'STRING f"{x!r:>4} and {x}"', "NEWLINE"]


def test_closure_follows_imports_inside_functions_and_packages():
    closure = import_closure("bam_core.data.prepare")
    # glue_hub and synthetic are imported inside a function; packages run their __init__
    for module in ("bam_core.data.glue_hub", "bam_core.data.glue_tsv", "bam_core.data.synthetic",
                   "bam_core.data.splits", "bam_core.io", "bam_core", "bam_core.data"):
        assert module in closure, module
    assert not any(m.startswith(("bam_core.method", "bam_core.reporting")) for m in closure)


def test_training_closure_holds_the_method_and_not_the_reporting():
    closure = import_closure("bam_core.method.train")
    assert "bam_core.method.optim" in closure and "bam_core.method.teachers" in closure
    assert not any(m.startswith("bam_core.reporting") for m in closure)


def test_every_stage_has_a_fingerprint():
    from bam_core.cli import STAGES

    prints = {stage: code_fingerprint(stage) for stage in STAGES}
    assert all(len(p) == 16 for p in prints.values())
    assert prints["select-single"] == prints["choose-alpha"]  # one module, two entry points
    assert prints["train"] != prints["teacher-logits"]


def test_prepare_counts_the_configured_data_source_only(monkeypatch):
    """An edit to one source's reader changes the prepare fingerprint of that source's runs only."""
    from bam_core.data.prepare import SOURCES
    from bam_core.experiment import code_version

    readers = code_version.ALTERNATIVES["prepare"]
    assert set(readers) == set(SOURCES) and set(readers.values()) <= set(import_closure("bam_core.data.prepare"))
    closure = import_closure("bam_core.data.prepare", frozenset(m for s, m in readers.items() if s != "synthetic"))
    assert "bam_core.data.synthetic" in closure
    assert "bam_core.data.glue_tsv" not in closure and "bam_core.data.glue_hub" not in closure
    assert "bam_core.data.task_files" not in closure  # the reader of declared tasks (custom_tasks)
    before = {source: code_fingerprint("prepare", source) for source in SOURCES}
    assert len(set(before.values())) == 4
    real = code_version.module_fingerprint
    monkeypatch.setattr(code_version, "module_fingerprint",
                        lambda name: "edited" if name == "bam_core.data.synthetic" else real(name))
    after = {source: code_fingerprint("prepare", source) for source in SOURCES}
    assert after["synthetic"] != before["synthetic"]
    assert after["glue_tsv"] == before["glue_tsv"] and after["hub"] == before["hub"]
    assert after["declared"] == before["declared"]
    with pytest.raises(ValueError, match="no alternative 'tsv'"):
        code_fingerprint("prepare", "tsv")
