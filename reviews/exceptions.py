"""Reviews-side domain errors (all derive from workflows' DomainError → 4xx in views)."""

from __future__ import annotations

from workflows.exceptions import AlreadyDecided, DomainError, InvalidInput

__all__ = ["AlreadyDecided", "ClaimedByOther", "DomainError", "InvalidInput"]


class ClaimedByOther(DomainError):
    """Another reviewer holds a live claim on the item."""

    http_status = 409

    def __init__(self, username: str) -> None:
        super().__init__(f"being reviewed by {username}")
        self.username = username
