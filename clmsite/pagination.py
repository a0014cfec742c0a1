"""Cursor pagination shared by every list endpoint: stable under inserts, O(1) per page."""
from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 500
