"""Demo accounts: one user per role, reviewers in at least two teams. Idempotent."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth.models import Group, User
from django.db import transaction

from aios_app.models import Team
from aios_app.roles import ensure_role_groups

DEMO_TEAMS = [
    ("sales-desk", "Sales desk"),
    ("finance-ops", "Finance ops"),
    ("support", "Support"),
    ("escalations", "Escalations"),
]

# username, full name, roles, teams
DEMO_USERS = [
    ("rita", "Rita Reviewer", ["Reviewer"], ["sales-desk", "support"]),
    ("fred", "Fred Finance", ["Reviewer"], ["finance-ops"]),
    ("eve", "Eve Escalations", ["Reviewer"], ["escalations", "sales-desk", "finance-ops"]),
    ("ada", "Ada Admin", ["Workflow admin"], []),
    ("max", "Max Manager", ["Manager"], []),
    ("aud", "Audrey Auditor", ["Auditor"], []),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    roles: list[str]
    teams: list[str]


@transaction.atomic
def demo_accounts_load(*, password: str | None) -> list[DemoLogin]:
    """Create the demo teams and users (idempotent: running twice changes nothing).

    `password` is set on users created now; None gives them a random unusable-by-guessing
    password (external deployments, where demo passwords must not be printed).
    """
    ensure_role_groups()
    teams = {}
    for slug, name in DEMO_TEAMS:
        teams[slug], _ = Team.objects.get_or_create(slug=slug, defaults={"name": name})
    logins = []
    for username, full_name, role_names, team_slugs in DEMO_USERS:
        first, _, last = full_name.partition(" ")
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last}
        )
        if created:
            user.set_password(password or secrets.token_urlsafe(24))
            user.save(update_fields=["password"])
        user.groups.add(*Group.objects.filter(name__in=role_names))
        for slug in team_slugs:
            teams[slug].members.add(user)
        logins.append(DemoLogin(username, role_names, team_slugs))
    return logins
