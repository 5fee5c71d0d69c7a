"""Thin periodic tasks: each calls one idempotent sweep service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="reviews.sla_sweep", ignore_result=True)
def sla_sweep_task() -> int:
    from reviews.services import sla_sweep

    return sla_sweep()


@shared_task(name="reviews.claims_expire", ignore_result=True)
def claims_expire_task() -> int:
    from reviews.services import claims_expire

    return claims_expire()
