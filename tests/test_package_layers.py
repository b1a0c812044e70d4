"""bam_core's folders import only downwards: data, then method and experiment, then reporting."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "bam_core"
LAYER = {"data": 0, "method": 1, "experiment": 1, "reporting": 2}


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m.startswith("bam_core.")}


def test_imports_point_down():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        folder = path.relative_to(PACKAGE).parts[0]
        if folder not in LAYER:
            continue  # cli, io, errors: the base
        for module in imports_of(path):
            other = module.split(".")[1]
            if other in LAYER and other != folder and LAYER[other] >= LAYER[folder]:
                wrong.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert not wrong, wrong


def test_base_modules_import_no_layer():
    for name in ("io.py", "errors.py", "cli.py"):
        assert not any(m.split(".")[1] in LAYER for m in imports_of(PACKAGE / name)), name
