from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from aios_app import roles

# (label, url name, permission): the navigation shows only what the user's roles allow.
NAVIGATION = [
    ("Queue", "reviews:queue", roles.REVIEW),
    ("Workflows", "workflows:workflow-list", roles.ADMIN_WORKFLOWS),
    ("Knowledge", "knowledge:collection-list", roles.ADMIN_WORKFLOWS),
    ("Models", "llm:provider-list", roles.ADMIN_WORKFLOWS),
    ("KPIs", "kpis", roles.VIEW_KPIS),
    ("Audit", "workflows:audit-log", roles.VIEW_AUDIT),
]


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    current = request.path
    items = []
    for label, url_name, perm in NAVIGATION:
        if user.has_perm(perm):
            url = reverse(url_name)
            items.append({"label": label, "url": url, "active": current.startswith(url)})
    return {"nav_items": items}
