"""The two tiers of the suite, the GLUE gate, and how the modules are laid out over pytest-xdist's workers.

Tiers: `python -m pytest` runs the unit, known-answer and dry-run workflow tests (minutes on 2 cores);
`python -m pytest --full` adds the tests marked `full`: SLURM, recovery from a crash, the BAM effect, end-to-end
workflow runs and other training-heavy tests. Without --full those are deselected (pytest counts them).

GLUE: a test marked `glue` needs ../shared/glue; tests/shared_glue.py skips it without the folder, or fails
it under CI=true.

Layout (pyproject: `-n logical --dist loadscope`): each module runs whole on one worker, so a module-scoped
fixture (a trained workspace, a reduced demo) is built once. The SLURM tests mostly wait on the scheduler
while the other worker keeps the cores busy, so they start first, and the long modules follow. xdist hands
each worker two modules at a time, and the one handed out with the SLURM module waits for it (13 minutes on
a slow 2-core machine): that one is a short module. `-n 0` runs the suite in one process.
"""

import pytest
from shared_glue import glue_or_skip

FIRST = ("test_slurm.py", "test_workflow.py", "test_annealing.py", "test_recovery.py", "test_bam_effect.py",
         "test_train.py", "test_dag.py", "test_train_synthetic.py", "test_estimate.py")


def pytest_addoption(parser):
    parser.addoption("--full", action="store_true",
                     help="also run the tests marked full (SLURM, recovery, BAM effect, end-to-end workflow runs)")


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--full"):
        left_out = [item for item in items if item.get_closest_marker("full")]
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            items[:] = [item for item in items if not item.get_closest_marker("full")]

    def rank(item):
        name = item.path.name
        return FIRST.index(name) if name in FIRST else len(FIRST)

    items.sort(key=rank)  # stable: each module's tests keep their order


def pytest_report_header(config):
    if config.getoption("--full"):
        return "tier: full"
    return "tier: default (the tests marked full are deselected; --full runs them)"


def pytest_runtest_setup(item):
    if item.get_closest_marker("glue"):
        glue_or_skip()
