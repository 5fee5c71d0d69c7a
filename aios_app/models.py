"""Accounts side of the shell: teams. Roles are Django groups (see `roles.py`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Team(models.Model):
    """A group of reviewers that work is routed to (e.g. "Sales desk", "Finance ops")."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [
            ("review_work", "Can work review queues of own teams"),
            ("admin_workflows", "Can configure workflows, knowledge and model routes"),
            ("view_kpis", "Can see KPI dashboards"),
            ("view_audit", "Can read and export the audit trail"),
        ]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A bearer token for machine clients (e.g. a CRM submitting work items).

    Only a SHA-256 of the token is stored; the token is shown once, when created.
    """

    name = models.CharField(max_length=120)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="first characters, to recognise it")
    workflows = models.JSONField(default=list, blank=True, help_text="slugs; empty = all")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def allows(self, workflow_slug: str) -> bool:
        return not self.workflows or workflow_slug in self.workflows
