"""Extension point of GDPR export and erasure.

customers imports no other app, yet an export must hold scores, segments, recommendations and
campaign deliveries, and an erasure must delete them. Each app registers one provider per
section from its AppConfig.ready() (like customers.panels for the admin page); a later app
(support conversations, say) adds its section the same way and the export and erasure grow with it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ErasureReport:
    removed: dict[str, int]  # table or field -> rows deleted or wiped
    needs_retraining: list[str] = field(default_factory=list)  # model versions ("churn v3") whose training data held the customer


Exporter = Callable[[int], object]  # customer id -> JSON-serialisable data of the section
Eraser = Callable[[int], ErasureReport]  # customer id -> what it removed (runs in the erasure's transaction)


@dataclass(frozen=True)
class PrivacyProvider:
    section: str
    export: Exporter
    erase: Eraser | None


_PROVIDERS: dict[str, PrivacyProvider] = {}


def register_privacy_provider(section: str, *, export: Exporter, erase: Eraser | None = None) -> None:
    """Register (or replace, so a reloaded app does not add it twice) the provider of `section`."""
    _PROVIDERS[section] = PrivacyProvider(section=section, export=export, erase=erase)


def privacy_providers() -> list[PrivacyProvider]:
    return sorted(_PROVIDERS.values(), key=lambda provider: provider.section)
