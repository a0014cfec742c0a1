"""Import a mapping whose `join` section builds the table from several files (customers.imports.joins).

The joined rows go through the ordinary import (`import_bytes`) as one gzip CSV named after the
mapping file, so every rule, report and hostile-input check of that path applies unchanged.
"""
from __future__ import annotations

from pathlib import Path

from customers.imports.joins import gzip_csv, joined_table, mapping_without_join
from customers.imports.readers import mapping_load
from customers.imports.services import Progress, import_bytes


def import_joined(*, mapping_path: str | Path, folder: str | Path, progress: Progress | None = None,
                  backend: str | None = None, on_total: Progress | None = None) -> int:
    """Join the files named by the mapping (found in `folder`) and import them; returns the batch id."""
    mapping = mapping_load(mapping_path)
    if "join" not in mapping or "kind" not in mapping:
        raise ValueError(f"{mapping_path}: a joined import's mapping needs 'kind' and 'join' sections")
    columns = mapping.get("columns") or {}
    frame = joined_table(mapping["join"], Path(folder), columns=list(columns.values()))
    data = gzip_csv(frame, list(columns.values()))
    return import_bytes(data=data, source_name=f"{Path(mapping_path).stem} (joined from {folder})", kind=mapping["kind"],
                        mapping=mapping_without_join(mapping), progress=progress, backend=backend, on_total=on_total)
