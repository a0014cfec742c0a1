"""Cursor pagination shared by every list endpoint: stable under inserts, O(1) per page.

A cursor that does not decode, or whose position does not fit the ordering, answers 400
(DRF says 404); a page_size that is not an integer from 1 to max_page_size answers 400 too.
"""
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 500

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: "Invalid cursor: use the next/previous links as given."}) from None

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: f"An integer from 1 to {self.max_page_size}, got {raw!r}."})
        return int(raw)

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, OverflowError, DjangoValidationError):
            # a hand-made cursor whose position is not a value of the ordering field
            raise ValidationError({self.cursor_query_param: "Invalid cursor: use the next/previous links as given."}) from None


def cursor_pagination(*ordering: str) -> type[IdCursorPagination]:
    """IdCursorPagination over another ordering (its first field positions the cursor)."""
    return type("CursorPagination_" + "_".join(o.lstrip("-") for o in ordering), (IdCursorPagination,), {"ordering": ordering})
