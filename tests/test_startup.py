"""Stages that do not train never import torch or transformers: the demo runs dozens of small jobs, and
starting a process that imports them costs seconds each. Checked in a fresh interpreter, since an import
anywhere in the test run would hide one."""

import subprocess
import sys

from bam_core.cli import STAGES

TRAINING = {"train", "calibrate"}  # the stages that run the model


def fresh_python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_stages_that_do_not_train_import_no_torch():
    modules = sorted({m.partition(":")[0] for s, (m, _) in STAGES.items() if s not in TRAINING})
    assert "bam_core.method.teachers" in modules and "bam_core.reporting.stats" in modules
    # imported one after another: the first module that pulls torch in is the one named
    code = ("import importlib, sys\nfor m in %r:\n    importlib.import_module(m)\n"
            "    heavy = [h for h in ('torch', 'transformers') if h in sys.modules]\n"
            "    if heavy:\n        print(m, *heavy)\n        break" % modules)
    assert fresh_python(code) == ""


def test_training_metrics_do_not_import_scipy_stats():
    assert fresh_python("import sys, bam_core.method.metrics; print('scipy.stats' in sys.modules)") == "False"
