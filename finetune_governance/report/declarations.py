"""The datasheet's declarations for a reader: a label per field, readable values, the GDPR Art. 9(2)
ground named, and declared performance beside the measured figure (both from the evidence)."""

from __future__ import annotations

from dataclasses import dataclass

from ..evidence import RunEvidence
from ._text import readable, sig

#: GDPR Art. 9(2) exceptions, by point
ART9_GROUNDS = {
    "9(2)(a)": "explicit consent", "9(2)(b)": "employment, social security and social protection law",
    "9(2)(c)": "vital interests", "9(2)(d)": "a not-for-profit body's legitimate activities",
    "9(2)(e)": "made manifestly public by the data subject", "9(2)(f)": "legal claims or courts",
    "9(2)(g)": "substantial public interest", "9(2)(h)": "health or social care",
    "9(2)(i)": "public health", "9(2)(j)": "archiving, research or statistics",
}
#: declaration -> label for a reader (fields not named here show their key)
LABELS = {
    "schema_version": "Datasheet schema version", "name": "Name", "description": "Description",
    "purpose": "Purpose", "lawful_basis": "Lawful basis",
    "consent": "Consent", "retention_days": "Retention (days)", "origin": "Origin", "licence": "Licence",
    "jurisdiction": "Jurisdiction", "transfers": "Transfers to", "data_subjects": "Data subjects",
    "contains_personal_data": "Contains personal data", "special_categories": "Special categories (GDPR Art. 9)",
    "special_category_ground": "Ground for special categories (GDPR Art. 9(2))",
    "high_risk_processing": "High-risk processing (GDPR Art. 35(1) assessment)", "dpia_reference": "DPIA",
    "data_gaps": "Data gaps and how they are addressed (EU AI Act Art. 10(2)(h))",
    "declared_performance": "Declared performance (EU AI Act Art. 15(3))",
    "favourable_label": "Favourable outcome", "columns": "Columns",
}
#: declared_performance key -> (display name, assessment field)
PERFORMANCE = {"accuracy": ("accuracy", "accuracy"), "f1_macro": ("macro F1", "f1_macro")}


def ground_text(ground: object) -> str:
    """'9(2)(g)' -> 'GDPR Art. 9(2)(g): substantial public interest'."""
    name = ART9_GROUNDS.get(str(ground))
    return f"GDPR Art. {ground}: {name}" if name else readable(ground)


def declared_performance(ev: RunEvidence) -> dict[str, tuple[str, float, float | None]]:
    """declared_performance key -> (display name, declared level, measured value or None)."""
    d = ev.declarations.declarations if ev.declarations else {}
    declared = d.get("declared_performance") or {}
    out = {}
    for key, level in declared.items() if isinstance(declared, dict) else ():
        name, field = PERFORMANCE.get(key, (key.replace("_", " "), key))
        measured = getattr(ev.assessment, field, None) if ev.assessment else None
        out[key] = (name, level, measured if isinstance(measured, float) else None)
    return out


def _value(key: str, value: object, ev: RunEvidence) -> str:
    if key == "special_category_ground" and value is not None:
        return ground_text(value)
    if key == "high_risk_processing" and value is not None:
        return ("yes: the controller assessed the processing as likely to result in a high risk (a DPIA is "
                "required)" if value else "no: the controller assessed the processing as not high-risk")
    if key == "declared_performance":
        rows = declared_performance(ev)
        if not rows:
            return "not declared"
        return "; ".join(f"{name} {sig(level)}" + (f" (measured {sig(measured)})" if measured is not None else "")
                         for name, level, measured in rows.values())
    if key == "special_categories" and value == []:
        return "none declared"
    return readable(value, none="not declared")


@dataclass(frozen=True)
class DeclarationRow:
    key: str
    label: str
    value: str | None  # None: a mapping shown as ``parts``
    parts: list[tuple[str, str]]


def declaration_rows(ev: RunEvidence) -> list[DeclarationRow]:
    """Every declaration of the datasheet, in its order, as (label, readable value or sub-rows)."""
    if ev.declarations is None:
        return []
    rows = []
    for key, value in ev.declarations.declarations.items():
        label = LABELS.get(key, key)
        if isinstance(value, dict) and value and key != "declared_performance":
            rows.append(DeclarationRow(key=key, label=label, value=None,
                                       parts=[(str(k), readable(v, none="not declared")) for k, v in value.items()]))
        else:
            rows.append(DeclarationRow(key=key, label=label, value=_value(key, value, ev), parts=[]))
    return rows


#: declarations the model card lists besides those its data sections already show
CARD_DECLARATIONS = ("jurisdiction", "data_subjects", "special_categories", "special_category_ground",
                     "high_risk_processing", "dpia_reference", "data_gaps")


def card_declarations(ev: RunEvidence) -> list[tuple[str, str]]:
    """(label, readable value) of each of ``CARD_DECLARATIONS`` the datasheet declares."""
    d = ev.declarations.declarations if ev.declarations else {}
    return [(LABELS[key], _value(key, d[key], ev)) for key in CARD_DECLARATIONS if d.get(key) not in (None, "", [], {})]
