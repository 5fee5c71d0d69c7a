"""Roles are Django groups holding a fixed set of permissions; views check permissions.

A user may hold several roles. Superusers pass every check (they are operators).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, Permission
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

REVIEW = "aios_app.review_work"
ADMIN_WORKFLOWS = "aios_app.admin_workflows"
VIEW_KPIS = "aios_app.view_kpis"
VIEW_AUDIT = "aios_app.view_audit"

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "Reviewer": [REVIEW],
    "Workflow admin": [ADMIN_WORKFLOWS],
    "Manager": [VIEW_KPIS],
    "Auditor": [VIEW_AUDIT],
}


def ensure_role_groups(**_: Any) -> None:
    """Create the role groups with exactly their permissions (idempotent)."""
    for group_name, perms in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=group_name)
        codenames = [p.split(".", 1)[1] for p in perms]
        wanted = list(
            Permission.objects.filter(content_type__app_label="aios_app", codename__in=codenames)
        )
        if len(wanted) == len(codenames):  # permissions exist once aios_app is migrated
            group.permissions.set(wanted)


def has_role_perm(user: AbstractBaseUser | AnonymousUser, perm: str) -> bool:
    return bool(user.is_authenticated and user.has_perm(perm))


def role_required(
    *perms: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Login required (anonymous → login page), then any of `perms` (otherwise 403)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not any(request.user.has_perm(p) for p in perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator
