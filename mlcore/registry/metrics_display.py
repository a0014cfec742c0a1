"""Model metrics for people: numbers formatted for reading and the metrics JSON laid out as
tables (scalars, per-key tables, per-row tables). Curves are left to the charts and the raw
JSON, which the model page keeps collapsed at the bottom."""
from __future__ import annotations

import json

from django.utils.html import format_html, format_html_join

from mlcore.registry.selectors import readable_number


def _scalar(value) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _table(title: str, columns: list[str], rows: list[list]) -> str:
    head = format_html_join("", "<th>{}</th>", ((c,) for c in columns))
    body = format_html_join("", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((readable_number(v),) for v in row)),) for row in rows))
    return format_html('<h4>{}</h4><table class="metrics-table"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>', title, head, body)


def _readable_name(key: str) -> str:
    return key.replace("_", " ")


def metrics_tables(metrics: dict) -> str:
    """HTML tables of every part of `metrics` that reads as a table; curves are named only."""
    metrics = metrics or {}
    scalars = [[_readable_name(k), v] for k, v in metrics.items() if _scalar(v)]
    parts = [_table("Headline", ["metric", "value"], scalars)] if scalars else []
    curves = []
    for key, value in metrics.items():
        if isinstance(value, dict) and value and all(_scalar(v) for v in value.values()):
            parts.append(_table(_readable_name(key), ["", "value"], [[k, v] for k, v in value.items()]))
        elif isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            columns = list(dict.fromkeys(c for v in value.values() for c in v if _scalar(v[c])))
            parts.append(_table(_readable_name(key), ["", *columns], [[k, *(v.get(c) for c in columns)] for k, v in value.items()]))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            columns = list(dict.fromkeys(c for row in value for c in row if _scalar(row[c])))
            # labels (text) first: PostgreSQL's jsonb does not keep the key order they were written in
            columns.sort(key=lambda c: not isinstance(value[0].get(c), str))
            parts.append(_table(_readable_name(key), columns, [[row.get(c) for c in columns] for row in value]))
        elif not _scalar(value):
            curves.append(_readable_name(key))
    if curves:
        parts.append(format_html("<p class=\"help\">Also held (see the charts or the raw JSON): {}</p>", ", ".join(curves)))
    return format_html_join("", "{}", ((p,) for p in parts)) if parts else format_html("<p>{}</p>", "No metrics recorded.")


def raw_json(value) -> str:
    """The JSON as it is stored, indented, inside a collapsed <details>."""
    return format_html('<details><summary>Show the raw JSON</summary><pre style="white-space:pre-wrap;max-height:480px;overflow:auto">{}</pre></details>',
                       json.dumps(value, indent=2, sort_keys=True, default=str))
