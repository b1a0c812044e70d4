"""How the suite is laid out over pytest-xdist's workers (pyproject: `-n logical --dist loadscope`).

Each module runs whole on one worker, so a module-scoped fixture (a trained workspace, a reduced demo) is
built once. The SLURM tests mostly wait on the scheduler while the other worker keeps the cores busy, so they
start first, and the long modules follow. xdist hands each worker two modules at a time, and the one handed
out with the SLURM module waits for it (13 minutes on a slow 2-core machine): that one is a short module.
`-n 0` runs the suite in one process.
"""

FIRST = ("test_slurm.py", "test_workflow.py", "test_annealing.py", "test_recovery.py", "test_bam_effect.py",
         "test_train.py", "test_dag.py", "test_train_synthetic.py", "test_estimate.py")


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.path.name
        return FIRST.index(name) if name in FIRST else len(FIRST)

    items.sort(key=rank)  # stable: each module's tests keep their order
