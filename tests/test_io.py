"""Atomic writes: complete under the final name or absent, with the mode the umask gives a new file."""

import os
import subprocess
import sys

import pytest

from bam_core.io import atomic_output, write_text


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)], ids=["022", "002", "077"])
def test_written_file_has_the_umask_mode(tmp_path, umask, mode):
    """bam_core.io reads the umask once, at import: a fresh process with `umask` set first gives `mode`
    (0o666 & ~umask, what a plain open() gives), not mkstemp's 0o600 nor a mode fixed whatever the umask."""
    script = (f"import os; os.umask({umask:#o}); from bam_core.io import write_text; "
              f"write_text('x', {str(tmp_path / 'a.txt')!r})")
    subprocess.run([sys.executable, "-c", script], check=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == mode


def test_failure_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_output(tmp_path / "b.parquet") as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_write_text_replaces_whole(tmp_path):
    write_text("first, longer", tmp_path / "c.txt")
    write_text("second", tmp_path / "c.txt")
    assert (tmp_path / "c.txt").read_text() == "second" and [p.name for p in tmp_path.iterdir()] == ["c.txt"]
