"""API tokens: create (shown once), authenticate a request's bearer token."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.utils import timezone

from aios_app.models import ApiToken


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_create(
    *, name: str, workflows: list[str] | None = None, created_by: AbstractBaseUser | None = None
) -> tuple[ApiToken, str]:
    """Returns the row and the token itself, which is not stored anywhere."""
    token = "aios_" + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(
        name=name,
        token_hash=_hash(token),
        prefix=token[5:13],
        workflows=workflows or [],
        created_by=created_by,
    )
    return row, token


def api_token_authenticate(request: HttpRequest) -> ApiToken | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    row = ApiToken.objects.filter(token_hash=_hash(token.strip()), revoked_at=None).first()
    if row is not None:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return row
