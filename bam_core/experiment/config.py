"""Config validation with one readable line per mistake.

Snakemake's `validate` fills in the schema's defaults but reports a mistake as a jsonschema dump;
we first find the error ourselves and name its key path (`training.single.lr: ...`). The schema cannot know
which task names a config declares, so `check_tasks` checks the names and the declared tasks' files.
"""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml

from bam_core.data.custom_tasks import Declaration, parse_declarations
from bam_core.data.tasks import TASKS
from bam_core.errors import BamError

# The tasks a config may train: GLUE's, less the evaluation sets read by another task's head (MNLI-mm, AX).
GLUE_TRAINABLE = tuple(name for name, task in TASKS.items() if task.head is None)


def _key_path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(top level)"


def _describe(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        where = _key_path(error)
        prefix = "" if where == "(top level)" else where + "."
        hint = f" (known keys: {', '.join(allowed)})" if allowed else ""
        return f"{prefix}{extra[0]}: unknown key{hint}"
    if error.validator == "propertyNames":
        return f"{_key_path(error)}: {error.message}"
    return f"{_key_path(error)}: {error.message}"


def check_config(config: dict, schema_path: str | Path) -> None:
    """Raise BamError naming the key path of the first schema violation."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    validator_cls = jsonschema.validators.validator_for(schema)
    errors = sorted(validator_cls(schema).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        raise BamError(_describe(best))


def check_tasks(config: dict) -> dict[str, Declaration]:
    """The config's declared tasks (custom_tasks), their files and columns checked; every task the config names
    is GLUE's or declared. The validated config, defaults filled in."""
    from bam_core.data.task_files import check_files

    declared = parse_declarations(config.get("custom_tasks"))
    for d in declared.values():
        if d.hub is None:  # a hub dataset's columns are checked when it is read
            check_files(d)
    known = f"neither a GLUE task ({', '.join(GLUE_TRAINABLE)}) nor declared under custom_tasks"
    named = [(f"tasks.{i}", t) for i, t in enumerate(config["tasks"])]
    named += [(f"data.max_train_examples.{t}", t) for t in config["data"].get("max_train_examples", {})]
    for key, task in named:
        if task not in GLUE_TRAINABLE and task not in declared:
            raise BamError(f"{key}: {task!r} is {known}")
    return declared
