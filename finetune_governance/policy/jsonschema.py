"""The JSON Schema of policy files, generated from the pydantic models.

``policies/policy.schema.json`` is this output, committed so that editors can validate
policy files; ``governed-finetune policy schema --write`` regenerates it and a test keeps
it in sync with the models.
"""

from __future__ import annotations

import json
from typing import Any

from .loader import BUNDLED_DIR
from .schema import SCHEMA_VERSION, Policy

SCHEMA_FILE = BUNDLED_DIR / "policy.schema.json"
SCHEMA_ID = "https://finetune-governance.invalid/policy.schema.json"


def policy_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one policy file as written."""
    schema = Policy.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"finetune-governance policy (schema_version {SCHEMA_VERSION})",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def render_json_schema() -> str:
    """The schema as the committed file holds it: sorted keys, two-space indent, final newline."""
    return json.dumps(policy_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
