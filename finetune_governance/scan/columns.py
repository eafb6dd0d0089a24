"""Scan the table's columns besides the text column: each distinct value once, chunk by chunk.

The label column and the sensitive-feature columns are read by the run and their values
are written into the reports (label names, group names) and the model: PII there blocks
the run (``handling`` "blocks the run"). Every other column holding text is scanned too and
its PII reported, not redacted: the run never reads it. Columns holding no text (numbers,
booleans, nested values) are listed as not scanned. Memory is bounded: a chunk's distinct
values are scanned through the ``Scanner`` (whose segment cache is bounded), and distinct
values are counted up to ``DISTINCT_CAP``.

A value on its own gives the NER model no context: it reads codes such as ``TKT-00001`` as
a place or a person. A NER span (``PERSON``, ``LOCATION``, ``NRP``) holding a digit is
therefore dropped in column values, and a value with a digit and no space (an id, a code, a
number) is not given to the NER model at all (pattern recognizers still read it); names on
their own ("Maria Garcia", "Berlin") are found. In such a code, a phone number counts only
when no letter lies outside it: ``TKT-01640`` is a ticket code, ``+14042147967`` a phone.
In the label and sensitive-feature columns an NRP span is the category the column declares
("Hispanic or Latino", "Muslim"), not an identifier, so it does not count there (special
categories are the declarations' business), nor does a NER span in a standard OMB/EEO-1
category name ("American Indian or Alaska Native").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Collection, Iterable, Mapping, Sequence

from ..evidence import ColumnRole, ColumnScan, EntitySummary
from .pii import Hit, Tally, mask_value, to_hits
from .stream import as_strings
from .rules import NER_TYPES

#: distinct values counted per column; beyond it the count is not recorded
DISTINCT_CAP = 100_000
#: the name under which an ImageFolder's class folder names (its labels) appear in ``ScanEvidence.columns``
CLASS_FOLDER_COLUMN = "class folder (label)"
#: roles whose values are category names (labels, groups), not free text
CATEGORY_ROLES = frozenset({"label", "sensitive_feature"})
#: race/ethnicity and sex categories of the US OMB standard (SPD 15, 1997 and 2024) and the EEO-1
#: report, lower-cased: the NER model reads some as names ("Alaska Native" as a PERSON)
STANDARD_CATEGORIES = frozenset({
    "american indian or alaska native", "asian", "black or african american", "hispanic or latino",
    "hispanic or latino/a", "native hawaiian or other pacific islander", "white", "two or more races",
    "middle eastern or north african", "not hispanic or latino", "some other race", "female", "male",
})
HANDLING = {"text": "redacted", "label": "blocks the run", "sensitive_feature": "blocks the run",
            "other": "reported, not redacted"}


@dataclass(frozen=True)
class ColumnValues:
    """One column to scan: its name, its role in the run, and its values as text ("" for none)."""

    name: str
    role: ColumnRole
    values: list[str]


def role_of(column: str, *, label_column: str | None, sensitive_features: Sequence[str]) -> ColumnRole:
    """The role of a column other than the text column."""
    if column == label_column:
        return "label"
    return "sensitive_feature" if column in sensitive_features else "other"


def as_text(values: Iterable[object], *, role: ColumnRole) -> list[str] | None:
    """``values`` as strings, or None when the column holds no text (numbers, booleans,
    nested values): a column read by the run (label, feature) is always converted, as the
    run converts it; another column only when some value is a string."""
    values = list(values)
    if role == "other" and not any(isinstance(v, str) for v in values):
        return None
    return as_strings(values)


def columns_to_scan(
    columns: Iterable[tuple[str, Iterable[object]]],
    *,
    text_column: str,
    label_column: str | None,
    sensitive_features: Sequence[str],
) -> tuple[list[ColumnValues], list[str]]:
    """The columns other than ``text_column`` to scan, and the names of those holding no text."""
    chosen: list[ColumnValues] = []
    skipped: list[str] = []
    for name, values in columns:
        name = str(name)
        if name == text_column:
            continue
        role = role_of(name, label_column=label_column, sensitive_features=sensitive_features)
        texts = as_text(values, role=role)
        if texts is None:
            skipped.append(name)
        else:
            chosen.append(ColumnValues(name=name, role=role, values=texts))
    return chosen, skipped


def not_scanned_limitation(skipped: Iterable[str]) -> list[str]:
    """The evidence's limitation line for columns that hold no text (none: no line)."""
    names = sorted(set(skipped))
    return [f"columns holding no text not scanned: {', '.join(names)}"] if names else []


def _is_code(value: str) -> bool:
    return not any(ch.isspace() for ch in value) and any(ch.isdigit() for ch in value)


def _noise(value: str, hit: Hit, role: ColumnRole) -> bool:
    """A NER span holding a digit, a phone number inside a code with letters around it, and in
    a column the run reads as categories (label, sensitive feature): an NRP span (the value
    names a group, which is what the column declares), or any NER span in a standard
    demographic category name (``STANDARD_CATEGORIES``)."""
    if role in CATEGORY_ROLES and hit.entity_type in NER_TYPES and (
            hit.entity_type == "NRP" or value.strip().casefold() in STANDARD_CATEGORIES):
        return True
    if hit.entity_type in NER_TYPES:
        return any(ch.isdigit() for ch in value[hit.start : hit.end])
    outside = value[: hit.start] + value[hit.end :]
    return hit.entity_type == "PHONE_NUMBER" and _is_code(value) and any(ch.isalpha() for ch in outside)


class ColumnTally:
    """Counts, affected records and masked previews per entity type of one column."""

    def __init__(self, name: str, role: ColumnRole) -> None:
        self.name, self.role = name, role
        self.tally = Tally()
        self._distinct: set[int] | None = set()

    def add(self, values: list[str], scanner, *, first_record: int) -> None:
        """Scan one chunk's distinct values with ``scanner``; ``values[i]`` is record ``first_record + i``."""
        distinct = list(dict.fromkeys(v for v in values if v))
        if self._distinct is not None:
            self._distinct.update(hash(v) for v in distinct)
            if len(self._distinct) > DISTINCT_CAP:
                self._distinct = None
        codes = [v for v in distinct if _is_code(v)]
        words = [v for v in distinct if not _is_code(v)]
        spans = scanner.scan(words) + scanner.scan(codes, ner=False)
        found = {}
        for value, value_hits in zip(words + codes, to_hits(spans)):
            value_hits = [h for h in value_hits if not _noise(value, h, self.role)]
            if value_hits:
                found[value] = value_hits
        none: list[Hit] = []
        hits = [[Hit(first_record + i, h.start, h.end, h.entity_type, h.score) for h in found[v]] if v in found else none
                for i, v in enumerate(values)]
        self.tally.add(values, hits, first_record=first_record)

    def summary(self, *, allowed: Collection[str], threshold_for: Callable[[str], float]) -> ColumnScan:
        """The column's evidence. A type in ``allowed`` (those the policy's ``actions`` name
        ``allow``, e.g. URLs) keeps action ``allow``; any other is ``block`` in a column the
        run reads and ``report`` in one it does not (a ``default_action: allow``, or a policy
        without a pii rule, exempts nothing: the reports would still show the value)."""
        kept = "block" if HANDLING[self.role] == "blocks the run" else "report"

        def action(entity: str) -> str:
            return "allow" if entity in allowed else kept

        return ColumnScan(
            column=self.name, role=self.role, method="distinct values", records_scanned=self.tally.records_total,
            distinct_values=len(self._distinct) if self._distinct is not None else None,
            records_with_pii=self.tally.records_with_hits, handling=HANDLING[self.role],  # type: ignore[arg-type]
            entities=self.tally.summaries(action_for=action, threshold_for=threshold_for),
        )


def allowed_in_columns(actions: Mapping[str, str]) -> frozenset[str]:
    """The entity types a policy's ``actions`` explicitly allow (exempt in every column)."""
    return frozenset(entity for entity, action in actions.items() if action == "allow")


def scan_columns(
    columns: Sequence[ColumnValues],
    scanner,
    *,
    allowed: Collection[str],
    threshold_for: Callable[[str], float],
    chunk_records: int = 20_000,
) -> list[ColumnScan]:
    """Per column of ``columns`` (all in memory), its evidence."""
    out: list[ColumnScan] = []
    for column in columns:
        tally = ColumnTally(column.name, column.role)
        for first in range(0, len(column.values), chunk_records):
            tally.add(column.values[first : first + chunk_records], scanner, first_record=first)
        out.append(tally.summary(allowed=allowed, threshold_for=threshold_for))
    return out


def text_column_scan(
    column: str, *, records: int, distinct: int, records_with_pii: int, entities: list[EntitySummary]
) -> ColumnScan:
    """The text column's entry in the per-column breakdown (the same figures as the scan's own)."""
    return ColumnScan(column=column, role="text", method="records", records_scanned=records,
                      distinct_values=distinct if distinct <= DISTINCT_CAP else None, records_with_pii=records_with_pii,
                      handling="redacted", entities=entities)


def masked_names(values: Sequence[str]) -> dict[str, str]:
    """Each value mapped to its masked form (``mask_value``), made unique with a suffix."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for value in values:
        masked, n = mask_value(value), 1
        while masked in used:
            n += 1
            masked = f"{mask_value(value)} ({n})"
        used.add(masked)
        out[value] = masked
    return out
