"""A fingerprint of the code a `bam <stage>` runs, put into the params of the rule that calls it.

Snakemake's code trigger sees only a rule's own body, not the library it calls. So each rule's params
hold a hash of its stage's import closure inside bam_core: the stage's module, every bam_core module it
imports (at the top or inside a function), theirs in turn, and the packages' `__init__` files. Nothing
is listed by hand, so a moved or new module is followed wherever it is.

A stage that reads one of several alternatives, imported inside the branch that takes it, counts the
configured one only (ALTERNATIVES): the prepare stage imports each data source's reader that way, so an
edit to the synthetic suite does not rerun a study of real GLUE, nor a fix to the TSV reader the demo.

The hash is over a normalised token stream: comments, docstrings, blank lines and layout inside
brackets drop out, so a comment fix reruns nothing while any change of code does. It is a token
stream, not `ast.dump`, whose text changes between Python versions: an upgrade must not rerun a paper.
`--rerun-triggers mtime input` lets someone who only refactored skip a rerun.
"""

from __future__ import annotations

import ast
import hashlib
import io
import tokenize
from functools import lru_cache
from pathlib import Path

PACKAGE = "bam_core"
_ROOT = Path(__file__).resolve().parents[1]  # bam_core/

# stage -> {config value: the module its entry imports only for that value} (bam_core/data/prepare.py's
# load_source imports one reader per data.source).
ALTERNATIVES = {"prepare": {"synthetic": "bam_core.data.synthetic", "glue_tsv": "bam_core.data.glue_tsv",
                            "hub": "bam_core.data.glue_hub", "declared": "bam_core.data.task_files"}}

_DROPPED = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
_STRUCTURE = {tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}


def module_path(name: str) -> Path | None:
    """The file of a bam_core module or package (`bam_core.x.y`), or None if there is none."""
    parts = name.split(".")
    if parts[0] != PACKAGE:
        return None
    base = _ROOT.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(name: str, source: str) -> set[str]:
    """bam_core modules named by any import statement in `source`, with the packages above them."""
    is_package = module_path(name).name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`
    closure = set()
    for mod in found:
        parts = mod.split(".")
        closure.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))  # a package runs its __init__
    return {m for m in closure if module_path(m) is not None}


def import_closure(entry: str, unused: frozenset[str] = frozenset()) -> list[str]:
    """Every bam_core module that running `entry` can import, sorted; `unused`: modules that `entry` itself
    imports but this run does not (another alternative), left out unless another module imports them."""
    if module_path(entry) is None:
        raise ValueError(f"{entry}: not a module of {PACKAGE}")
    seen, todo = set(), [entry] + [".".join(entry.split(".")[:i]) for i in range(1, len(entry.split(".")))]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        imported = _imported_modules(name, module_path(name).read_text(encoding="utf-8"))
        todo.extend(imported - seen - (unused if name == entry else set()))
    return sorted(seen)


def normalised_tokens(source: str) -> list[str]:
    """The code's tokens without comments, docstrings (any statement that is only a string) or layout.

    Since Python 3.12 an f-string is several tokens (FSTRING_START ... FSTRING_END); it is joined back
    into the one STRING token older versions give, from its source text, so the stream is the same.
    """
    lines = source.splitlines(keepends=True)
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        kind = tokenize.tok_name[tok.type]
        if kind.endswith("STRING_START"):  # f-string (3.12+) or t-string (3.14+): join to one token
            depth, j = 1, i
            while depth:
                j += 1
                name = tokenize.tok_name[tokens[j].type]
                depth += name.endswith("STRING_START") - name.endswith("STRING_END")
            out.append("STRING " + _source_span(lines, tok.start, tokens[j].end))
            i = j + 1
            continue
        if tok.type in _STRUCTURE:
            if not (tok.type == tokenize.NEWLINE and out and out[-1] == "NEWLINE"):
                out.append(kind)
        elif tok.type not in _DROPPED:
            out.append(f"{kind} {tok.string}")
        i += 1
    return _drop_bare_strings(out)


def _source_span(lines: list[str], start: tuple[int, int], end: tuple[int, int]) -> str:
    (r0, c0), (r1, c1) = start, end
    if r0 == r1:
        return lines[r0 - 1][c0:c1]
    return lines[r0 - 1][c0:] + "".join(lines[r0:r1 - 1]) + lines[r1 - 1][:c1]


def _drop_bare_strings(tokens: list[str]) -> list[str]:
    """Remove statements made of string literals only (docstrings; they do nothing when run)."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        at_statement_start = not out or out[-1] in ("NEWLINE", "INDENT", "DEDENT")
        j = i
        while j < len(tokens) and tokens[j].startswith("STRING "):
            j += 1
        if at_statement_start and j > i and (j == len(tokens) or tokens[j] == "NEWLINE"):
            i = j + 1  # the strings and their NEWLINE
            continue
        out.append(tokens[i])
        i += 1
    return out


@lru_cache(maxsize=None)
def module_fingerprint(name: str) -> str:
    source = module_path(name).read_text(encoding="utf-8")
    return hashlib.sha256("\n".join(normalised_tokens(source)).encode()).hexdigest()


def code_fingerprint(stage: str, alternative: str | None = None) -> str:
    """The fingerprint of `bam <stage>`: its entry module's import closure (cli.py only dispatches), with
    only the `alternative` this run takes of the stage's ALTERNATIVES (all of them when None)."""
    from bam_core.cli import STAGES

    entry = STAGES[stage][0].partition(":")[0]
    choices = ALTERNATIVES.get(stage, {})
    if alternative is not None and alternative not in choices:
        raise ValueError(f"{stage} has no alternative {alternative!r}; it has {', '.join(choices) or 'none'}")
    unused = frozenset() if alternative is None else frozenset(m for v, m in choices.items() if v != alternative)
    digest = hashlib.sha256()
    for name in import_closure(entry, unused):
        digest.update(f"{name} {module_fingerprint(name)}\n".encode())
    return digest.hexdigest()[:16]
