"""`bam run-spec OUT --settings JSON [--alpha-choice FILE]`: write one run's spec file.

The workflow passes a run's effective settings as the rule's params, so changing a setting rewrites
this file and reruns exactly the runs it belongs to. Single-task runs that take Single's per-task
alpha read it from the choice file here, at run time, so the DAG needs no checkpoint.
"""

from __future__ import annotations

import argparse
import json

from bam_core.errors import BamError
from bam_core.io import read_json, write_json


def fill_alpha(settings: dict, choice: dict[str, float]) -> dict:
    """Per-task alpha from Single's choice: a float for one task, a {task: alpha} map for several."""
    missing = [t for t in settings["tasks"] if t not in choice]
    if missing:
        raise BamError(f"alpha choice has no entry for task(s) {', '.join(missing)}")
    alphas = {t: choice[t] for t in settings["tasks"]}
    value = alphas[settings["tasks"][0]] if len(alphas) == 1 else alphas
    return dict(settings, layerwise_lr_decay=value)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bam run-spec", description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--settings", required=True, help="the run's settings as a JSON object")
    parser.add_argument("--alpha-choice", help="results/alpha_choice.json, for runs that use Single's alpha")
    args = parser.parse_args(argv)
    try:
        settings = json.loads(args.settings)
    except json.JSONDecodeError as err:
        raise BamError(f"--settings is not valid JSON: {err}") from None
    if args.alpha_choice:
        settings = fill_alpha(settings, read_json(args.alpha_choice)["choice"])
    write_json(settings, args.out)
    return 0
