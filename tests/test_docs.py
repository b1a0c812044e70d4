"""The documentation a user reads stays true: its links resolve, the README's commands are ones the tools
accept, and no file speaks of how the project was worked on.

- Every relative link in README.md, docs/*.md and demo-tuning/README.md, and every repository path written
  as inline code there (`workflow/configs/paper.yaml`), names a file or folder that exists.
- Every command in the README (its code blocks and its inline `snakemake ...`, `bam ...` commands) parses:
  snakemake's own argument parser takes its options, its config files and profiles exist, and in a scratch
  copy of the workflow a code block's snakemake command dry-runs its targets (`-n`) or, without targets,
  parses the Snakefile with its config and profile (`--list-target-rules`); `bam <stage> --help` exits 0;
  `python -m pytest`'s options are in `pytest --help`; `pip install -e '.[x]'` names extras pyproject has.
- The commands of docs/*.md and demo-tuning/README.md parse the same way (no dry runs).
- No tracked file outside docs/design-log.md (dated decisions and measurements) uses the words of the
  team's working process (PROCESS_WORDS): say what is true and how to reproduce it, cite a commit or a date.
"""

from __future__ import annotations

import re
import shutil
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib  # Python 3.11+
except ModuleNotFoundError:  # 3.10: the pip commands go unchecked
    tomllib = None

from tests.workspace import REPO, make_workspace, snakemake

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "demo-tuning" / "README.md"]
# Top-level folders whose paths, written as inline code, must exist (results/ is the workflow's output).
TRACKED_ROOTS = {"bam_core", "benchmarks", "demo-tuning", "docs", "profiles", "scripts", "studies", "tests", "workflow"}

# Words about the team's working process, not about the project. The design log alone may date decisions.
PROCESS_WORDS = re.compile(
    r"\bsessions?\b|\bwork(?:ing)?[ -]periods?\b|\bhand-?offs?\b|\bteammates?\b|\bthe team\b"
    r"|\bagents?\b|\bworking days?\b",
    re.IGNORECASE,
)
# Code identifiers that contain such a word and speak of no process: a pytest fixture scope, an HTTP client.
PROCESS_WORD_CODE = re.compile(r"""scope\s*=\s*["']session["']|["']session["']|\bSession\(|\buser[- ]agent\b""",
                               re.IGNORECASE)
PROCESS_EXEMPT = {"docs/design-log.md", "tests/test_docs.py"}

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
INLINE_CODE = re.compile(r"`([^`\n]+)`")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def repo_files() -> list[str]:
    """Tracked files and new ones git does not ignore (a file is checked before its first commit)."""
    try:
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [line for line in out.splitlines() if (REPO / line).is_file()]


# --- links and paths ---------------------------------------------------------------------------------------

def referenced_paths(page: Path) -> list[tuple[str, Path]]:
    """(as written, resolved) for every relative link and every inline-code repository path of a page."""
    text = page.read_text(encoding="utf-8")
    prose = FENCE.sub("", text)  # code blocks hold commands and output, checked below
    found = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue  # http(s), mailto, an anchor on the same page
        found.append((target, (page.parent / target.split("#")[0]).resolve()))
    for code in INLINE_CODE.findall(prose):
        if re.fullmatch(r"[\w.-]+(?:/[\w.-]+)+/?", code) and code.split("/")[0] in TRACKED_ROOTS:
            found.append((code, (REPO / code).resolve()))
    return found


def test_links_and_paths_in_the_docs_exist():
    missing = []
    for page in PAGES:
        assert page.is_file(), f"{page.relative_to(REPO)} is missing"
        for written, path in referenced_paths(page):
            if not path.exists():
                rel = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else str(path)
                missing.append((page.relative_to(REPO).as_posix(), written, rel))
    assert not missing, "links or paths to nothing: " + "; ".join(f"{p}: {w}" for p, w, _ in missing)


def test_every_docs_page_is_linked_from_the_readme():
    readme = {path for _, path in referenced_paths(REPO / "README.md")}
    unlinked = [p.name for p in sorted((REPO / "docs").glob("*.md")) if p.resolve() not in readme]
    assert not unlinked, f"docs pages the README does not link: {unlinked}"


# --- the README's commands ---------------------------------------------------------------------------------

def readme_commands(page: Path = REPO / "README.md") -> tuple[list[list[str]], list[list[str]]]:
    """(commands of the bash code blocks, inline `snakemake`/`bam`/`python` commands of the prose), each
    split into words, comments and `time ` dropped, `a && b` split in two."""
    text = page.read_text(encoding="utf-8")

    def split(line: str) -> list[list[str]]:
        words = shlex.split(line, comments=True)
        commands, current = [], []
        for word in words + ["&&"]:
            if word in ("&&", ";"):
                if current:
                    commands.append(current[1:] if current[0] == "time" else current)
                current = []
            else:
                current.append(word)
        return commands

    blocks = []
    for lang, body in FENCE.findall(text):
        if lang in ("bash", "sh", "shell"):
            for line in body.replace("\\\n", " ").splitlines():
                blocks += split(line)
    inline = []
    for code in INLINE_CODE.findall(FENCE.sub("", text)):
        if re.match(r"^(time )?(snakemake|bam|python -m pytest)\b", code):
            inline += split(code)
    return blocks, inline


def check_snakemake_arguments(args: list[str]) -> list[str]:
    """snakemake's parser takes the options, and the config files and profiles named exist; the targets."""
    from snakemake.cli import get_argument_parser

    try:
        parsed = get_argument_parser().parse_args(args)
    except SystemExit:
        pytest.fail(f"snakemake does not accept: snakemake {shlex.join(args)}")
    profiles = parsed.profile if isinstance(parsed.profile, list) else [parsed.profile] if parsed.profile else []
    for path in [*(parsed.configfile or []), *profiles]:
        assert (REPO / path).exists(), f"snakemake {shlex.join(args)}: {path} does not exist (a target after --configfile?)"
    return list(parsed.targets or [])


def test_readme_commands_are_accepted(tmp_path):
    blocks, inline = readme_commands()
    assert any(c[0] == "snakemake" for c in blocks), "the README's code blocks lost their snakemake command"
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())["project"] if tomllib else None
    pytest_help, workspace, parsed = None, None, set()
    for command in blocks + inline:
        name, args = command[0], command[1:]
        shown = shlex.join(command)
        if name == "export" or command[:2] == ["python", "-c"]:
            continue
        if name == "pip":
            assert args[0] == "install", shown
            if pyproject is None:
                continue
            extras = set(pyproject["optional-dependencies"])
            known = " ".join(pyproject["dependencies"] + sum(pyproject["optional-dependencies"].values(), []))
            for arg in args[1:]:
                if arg.startswith(".[") or arg.startswith("'.["):
                    missing = set(arg.strip("'.[]").split(",")) - extras
                    assert not missing, f"{shown}: pyproject has no extras {missing}"
                elif not arg.startswith("-") and arg != ".":
                    package = re.split(r"[=<>]", arg)[0]
                    assert package in known, f"{shown}: {package} is not among pyproject's dependencies"
        elif name == "bam":
            result = subprocess.run([sys.executable, "-m", "bam_core", args[0], "--help"], cwd=REPO,
                                    capture_output=True, text=True)
            assert result.returncode == 0, f"{shown}: bam {args[0]} --help failed\n{result.stderr}"
        elif command[:3] == ["python", "-m", "pytest"]:
            if pytest_help is None:
                pytest_help = subprocess.run([sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
                                             cwd=REPO, capture_output=True, text=True).stdout
            for option in (a.split("=")[0] for a in command[3:] if a.startswith("--")):
                assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", pytest_help), (
                    f"{shown}: pytest does not know {option}")
        elif name == "python":
            assert (REPO / args[0]).is_file(), f"{shown}: no {args[0]}"
        elif name == "bash":
            assert (REPO / args[0]).is_file(), f"{shown}: no {args[0]}"
        elif name == "snakemake":
            targets = check_snakemake_arguments(args)
            options = tuple(a for a in args if a not in targets)
            if command in blocks and (targets or options not in parsed):
                parsed.add(options)  # a second command with the same options and no target adds nothing
                # With targets, a dry run of them; without, the whole DAG would be the paper's 1,400 jobs (15 s):
                # --list-target-rules parses the Snakefile with this config and profile, and validates the config.
                workspace = workspace or scratch_workspace(tmp_path)
                result = snakemake(workspace, *args, "-n" if targets else "--list-target-rules")
                data_missing = "config error: data.glue_tsv_dir:" in result.stderr  # ../shared/glue absent
                assert result.returncode == 0 or data_missing, f"{shown} -n failed:\n{result.stdout}{result.stderr}"
        else:
            pytest.fail(f"the README runs {name}, which this test does not know how to check: {shown}")


def test_docs_commands_parse():
    """The docs pages' commands, at parse level only (no dry runs: the README's are run above)."""
    stages = subprocess.run([sys.executable, "-m", "bam_core", "--help"], cwd=REPO, capture_output=True,
                            text=True).stdout
    for page in PAGES[1:]:
        blocks, inline = readme_commands(page)
        for command in blocks + inline:
            name, args = command[0], command[1:]
            where = f"{page.relative_to(REPO)}: {shlex.join(command)}"
            if name == "snakemake":
                check_snakemake_arguments(args)
            elif name == "bam" and args and not args[0].startswith("<"):  # `bam`, `bam <stage>`: prose
                assert re.search(rf"^\s+{re.escape(args[0])}\s", stages, re.MULTILINE), f"{where}: no bam stage {args[0]}"
            elif name in ("python", "bash") and args[0] not in ("-m", "-c"):
                assert (REPO / args[0]).is_file(), f"{where}: no {args[0]}"


def scratch_workspace(tmp_path: Path) -> Path:
    """A copy of the workflow, with the example tasks' files, where ../shared/glue resolves as it does beside
    the repository."""
    root = make_workspace(tmp_path / "repo")
    shutil.copytree(REPO / "examples", root / "examples")
    shared = REPO.parent / "shared"
    if shared.is_dir():
        (tmp_path / "shared").symlink_to(shared)
    return root


# --- words of the working process ----------------------------------------------------------------------------

def test_no_file_speaks_of_the_working_process():
    hits = []
    for name in repo_files():
        if name in PROCESS_EXEMPT:
            continue
        try:
            text = (REPO / name).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # parquet, png
        for number, line in enumerate(text.splitlines(), 1):
            if PROCESS_WORDS.search(PROCESS_WORD_CODE.sub("", line)):
                hits.append(f"{name}:{number}: {line.strip()[:100]}")
    assert not hits, ("words about how the project was worked on (cite a commit, a date or a section; dated "
                      "history goes to docs/design-log.md):\n" + "\n".join(hits))
