"""The small support widget added to campaign landing pages: a plain form that starts a chat at
/support/, carrying the visitor's signed chat token when the landing page knows the customer."""
from __future__ import annotations

from django.template.loader import render_to_string

from campaigns.assistant.links import chat_token


def widget_inject(html: str, *, customer_id: int | None, request=None) -> str:
    """The landing page with the widget before </body> (the request gives the form its CSRF token)."""
    widget = render_to_string("support/widget.html", {"token": chat_token(customer_id) if customer_id else ""}, request=request)
    head, sep, tail = html.rpartition("</body>")
    return f"{head}{widget}{sep}{tail}" if sep else html + widget
