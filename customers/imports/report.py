"""The import report: the count and a sample of every cleaning rule, and what each table gained.

Counting rules: `rules[name]` is how many lines *as read from the file* a rule applies to (so the
figures compare directly with a description of the raw file; for customer, product, review and
event files: after their exact duplicates are dropped), `dropped[name]` how many lines that
rule removed from what is loaded (a line is dropped by the first rule that drops it), so
rows_read == lines loaded + sum(dropped) always holds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

SAMPLE_SIZE = 5
SAMPLE_CHARS = 200  # a sampled value is cut to this (a pasted blob must not fill the batch row)


@dataclass
class TableCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class ImportReport:
    source: str = ""  # the file's name, for errors raised by rules
    rows_read: int = 0
    rules: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    samples: dict[str, list[dict]] = field(default_factory=dict)
    tables: dict[str, TableCounts] = field(default_factory=dict)
    figures: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def count(self, rule: str, affected: pd.DataFrame | pd.Series, frame: pd.DataFrame | None = None) -> None:
        """Count a rule over a mask (with its frame) or a frame of affected lines, keeping a sample."""
        rows = frame[affected] if frame is not None else affected
        self.rules[rule] = self.rules.get(rule, 0) + len(rows)
        if len(rows) and rule not in self.samples:
            self.samples[rule] = _sample(rows)

    def drop(self, rule: str, count: int) -> None:
        self.dropped[rule] = self.dropped.get(rule, 0) + int(count)

    def table(self, name: str) -> TableCounts:
        return self.tables.setdefault(name, TableCounts())

    def as_dict(self) -> dict:
        return {
            "rows_read": self.rows_read,
            "rules": dict(self.rules),
            "dropped": dict(self.dropped),
            "tables": {name: counts.as_dict() for name, counts in self.tables.items()},
            "figures": dict(self.figures),
            "notes": list(self.notes),
        }


def _sample(rows: pd.DataFrame) -> list[dict]:
    head = rows.head(SAMPLE_SIZE)
    columns = [c for c in head.columns if not c.startswith("_") or c == "_line"]
    return [{k: _plain(v) for k, v in record.items()} for record in head[columns].to_dict("records")]


def _plain(value):
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    if isinstance(value, str) and len(value) > SAMPLE_CHARS:
        return value[:SAMPLE_CHARS] + "..."
    return value
