"""Config validation with one readable line per mistake.

Snakemake's `validate` fills in the schema's defaults but reports a mistake as a jsonschema dump;
we first find the error ourselves and name its key path (`training.single.lr: ...`).
"""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml

from bam_core.errors import BamError


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
