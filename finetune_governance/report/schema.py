"""The JSON Schema of audit.json, generated from ``RunEvidence`` and committed as
schemas/audit.schema.json. Regenerate after changing evidence.py::

    python -m finetune_governance.report.schema --write
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..evidence import EVIDENCE_SCHEMA_VERSION, RunEvidence

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "audit.schema.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def audit_schema() -> dict:
    """The schema of one run's audit.json, pinned to this evidence schema version."""
    schema = RunEvidence.model_json_schema(mode="serialization")
    schema["properties"]["schema_version"] = {
        "const": EVIDENCE_SCHEMA_VERSION, "title": "Schema Version",
        "description": "Version of the audit.json format; a change that breaks readers bumps it.",
    }
    return {"$schema": DIALECT, "$id": f"urn:finetune-governance:audit:{EVIDENCE_SCHEMA_VERSION}",
            "title": "finetune-governance audit.json", **{k: v for k, v in schema.items() if k != "title"}}


def schema_text() -> str:
    return json.dumps(audit_schema(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    """``--write``: (re)write the committed schema; otherwise exit 1 when it is stale."""
    if "--write" in argv:
        SCHEMA_PATH.parent.mkdir(parents=True, exist_ok=True)
        SCHEMA_PATH.write_text(schema_text(), encoding="utf-8")
        return 0
    current = SCHEMA_PATH.read_text(encoding="utf-8") if SCHEMA_PATH.exists() else ""
    if current != schema_text():
        print(f"{SCHEMA_PATH}: stale; run python -m finetune_governance.report.schema --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
