"""Extension point of the customer admin page.

customers imports no other app, yet its customer page must show segments, scores,
recommendations and campaign history. Other apps register a panel here from their admin
module (which runs at admin autodiscovery); the customer page renders every panel in order.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.html import format_html

PanelRenderer = Callable[[int], str]


@dataclass(frozen=True)
class CustomerPanel:
    title: str
    order: int
    render: PanelRenderer  # customer id -> safe HTML


_PANELS: dict[str, CustomerPanel] = {}


def register_customer_panel(title: str, *, order: int = 100) -> Callable[[PanelRenderer], PanelRenderer]:
    def decorator(render: PanelRenderer) -> PanelRenderer:
        _PANELS[title] = CustomerPanel(title=title, order=order, render=render)
        return render

    return decorator


def customer_panels() -> list[CustomerPanel]:
    return sorted(_PANELS.values(), key=lambda panel: (panel.order, panel.title))


def render_customer_panels(customer_id: int) -> str:
    parts = []
    for panel in customer_panels():
        parts.append(format_html('<h3 style="margin-top:1em">{}</h3>{}', panel.title, panel.render(customer_id)))
    return "".join(str(part) for part in parts)
