"""Import endpoints: POST a file or records to /imports/<kind>; read the ImportBatch reports.

A POST runs the same service as the command and the admin upload. JSON bodies hold records
with the canonical field names (or {"records": [...]}); CSV (text/csv, or multipart `file`)
is read with `?preset=` or `?mapping=<json>`. Re-posting the same data changes nothing: rows
are matched on their external ids (order lines on their content key).
"""
from __future__ import annotations

import io
import json

import pandas as pd
from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.parsers import BaseParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.api.scopes import Scope
from customers.imports.readers import FIELDS, GZIP_MAGIC, ImportFileError, quoted
from customers.imports.services import import_bytes
from customers.models import ImportBatch


class ImportBatchSerializer(serializers.ModelSerializer):
    progress = serializers.FloatField(read_only=True)

    class Meta:
        model = ImportBatch
        fields = [
            "id", "kind", "source_name", "sha256", "preset", "mapping", "status", "started_at", "finished_at",
            "rows_read", "rows_total", "rows_done", "progress", "rows_created", "rows_updated", "rows_unchanged",
            "rule_counts", "samples", "entity_counts", "message", "error",
        ]


LIST_ERROR_CHARS = 300  # the list shows the start of an error; the detail shows the stored (bounded) text
READ_CHUNK = 1 << 20


class ImportBatchListSerializer(ImportBatchSerializer):
    """The list: no samples, and errors cut short, so a page stays small whatever was imported."""

    error = serializers.SerializerMethodField()

    class Meta(ImportBatchSerializer.Meta):
        fields = [f for f in ImportBatchSerializer.Meta.fields if f != "samples"]

    def get_error(self, batch: ImportBatch) -> str:
        return batch.error if len(batch.error) <= LIST_ERROR_CHARS else batch.error[:LIST_ERROR_CHARS] + " ..."


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"


def _too_large(size: int | None = None) -> BodyTooLarge:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    got = f" ({size:,} bytes)" if size else ""
    return BodyTooLarge(f"The request body{got} is larger than DATA_UPLOAD_MAX_MEMORY_SIZE ({limit:,} bytes); "
                        "import a file this large with the import_* management command.")


def read_limited(stream) -> bytes:
    """The body in chunks, refused as soon as it passes DATA_UPLOAD_MAX_MEMORY_SIZE (never read whole first)."""
    limit, size, chunks = settings.DATA_UPLOAD_MAX_MEMORY_SIZE, 0, []
    while chunk := stream.read(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        return super().parse(io.BytesIO(read_limited(stream)), media_type, parser_context)


class RawFileParser(BaseParser):
    """CSV or gzip bodies arrive as bytes, read by the import service itself."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        return read_limited(stream)


class GzipFileParser(RawFileParser):
    media_type = "application/gzip"


class ImportBatchList(ListAPIView):
    queryset = ImportBatch.objects.all()
    serializer_class = ImportBatchListSerializer
    required_scopes = Scope.WRITE_IMPORTS
    filterset_fields = ["kind", "status"]


class ImportBatchDetail(RetrieveAPIView):
    queryset = ImportBatch.objects.all()
    serializer_class = ImportBatchSerializer
    required_scopes = Scope.WRITE_IMPORTS


class ImportCreate(APIView):
    """POST /imports/<kind>: write:imports, or write:events for browsing events."""

    @property
    def required_scopes(self) -> dict[str, str]:
        kind = getattr(self, "kwargs", {}).get("kind")
        return {"POST": Scope.WRITE_EVENTS if kind == ImportBatch.Kind.EVENTS else Scope.WRITE_IMPORTS}

    parser_classes = [LimitedJSONParser, RawFileParser, GzipFileParser, MultiPartParser]

    @extend_schema(
        parameters=[
            OpenApiParameter("preset", str, description="A named layout (online_retail, reviews_en)."),
            OpenApiParameter("mapping", str, description='JSON: {"columns": {"field": "column"}, "delimiter": ";"}.'),
        ],
        request={"application/json": dict, "text/csv": bytes, "multipart/form-data": dict},
        responses={201: ImportBatchSerializer, 400: dict},
    )
    def post(self, request, kind: str):
        length = request.META.get("CONTENT_LENGTH") or ""
        if length.isdigit() and int(length) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            raise _too_large(int(length))
        try:
            data, source, preset, mapping = self._payload(request, kind)
            batch_id = import_bytes(data=data, source_name=source, kind=kind, preset=preset, mapping=mapping)
        except ImportFileError as exc:
            return Response({"detail": str(exc), "batch": getattr(exc, "batch_id", None)}, status=status.HTTP_400_BAD_REQUEST)
        except ValueError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(ImportBatchSerializer(ImportBatch.objects.get(pk=batch_id)).data, status=status.HTTP_201_CREATED)

    def _payload(self, request, kind: str) -> tuple[bytes, str, str | None, dict | None]:
        if kind not in FIELDS:
            raise ValueError(f"Unknown import kind {kind!r}; expected one of {sorted(FIELDS)}.")
        preset = request.query_params.get("preset") or None
        mapping = _mapping_param(request.query_params.get("mapping"))
        if not preset and not mapping:  # canonical field names as column names
            mapping = {"columns": {f: f for f in FIELDS[kind][0] + FIELDS[kind][1]}}
        if isinstance(request.data, bytes):
            return request.data, f"api-{kind}.csv" + (".gz" if request.data[:2] == GZIP_MAGIC else ""), preset, mapping
        if "file" in request.FILES:
            upload = request.FILES["file"]
            if upload.size > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                raise _too_large(upload.size)
            return upload.read(), upload.name, preset, mapping
        records = request.data.get("records") if isinstance(request.data, dict) else request.data
        if not isinstance(records, list) or not records or not all(isinstance(r, dict) for r in records):
            raise ValueError("Send a non-empty JSON list of records (or {\"records\": [...]}), a CSV body, or a multipart 'file'.")
        return _records_csv(records, kind), f"api-{kind}.json", None, mapping


def _mapping_param(text: str | None) -> dict | None:
    if not text:
        return None
    try:
        mapping = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"?mapping is not valid JSON ({exc}).") from exc
    if not isinstance(mapping, dict):
        raise ValueError(f"?mapping is a JSON object such as {{\"columns\": {{\"field\": \"column\"}}}}, not a {type(mapping).__name__}.")
    return mapping


def _records_csv(records: list[dict], kind: str) -> bytes:
    """JSON records named by canonical fields -> a CSV the service reads with the identity mapping.

    Record k is line k + 1 of that CSV (the header is line 1), so errors name it the same way."""
    required, optional = FIELDS[kind]
    unknown = set().union(*(r.keys() for r in records)) - set(required) - set(optional)
    if unknown:
        raise ValueError(f"Unknown {kind} fields {sorted(unknown)}; known: {sorted(required + optional)}.")
    for number, record in enumerate(records, start=2):
        for name, value in record.items():
            if not (value is None or isinstance(value, str | int | float | bool)):
                raise ImportFileError(f"api-{kind}.json", number,
                                      f"{name} {quoted(value)} is not a plain value (it is a JSON {'object' if isinstance(value, dict) else 'array'})")
    frame = pd.DataFrame.from_records(records).fillna("")
    return frame.to_csv(index=False).encode()
