"""Knowledge plane errors. Views turn `KnowledgeError` into a 4xx with the message shown.

(No project-wide DomainError exists yet; when one does, `KnowledgeError` should derive
from it.)
"""

from __future__ import annotations


class KnowledgeError(Exception):
    """Base of every expected knowledge-plane failure; the message is safe to show."""


class IngestError(KnowledgeError):
    """A file was refused (wrong type, empty, corrupt, too large); nothing was stored."""


class EmbeddingError(KnowledgeError):
    """An embedding model is unknown, misconfigured or its server failed."""


class JobConflict(KnowledgeError):
    """The job cannot start: another one for the same collection is running."""
