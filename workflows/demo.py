"""Demo data: the three demo workflows, their knowledge and sample items, and a trickle.

`demo_workflows_load()` (run by `manage.py load_demo`, so by `make run`) is idempotent:
collections and documents are matched by slug and source (ingest is idempotent by
checksum), prompts get a new version only when their text changed, a workflow gets a new
version only when its shipped definition changed (and never over an admin's own version),
and the initial sample items have stable external keys.

`demo_trickle_once()` (the beat task `workflows.demo_trickle`, every
AIOS_DEMO_TRICKLE_SECONDS) receives one new random sample item, so queues keep filling
with real drafts while the app runs.
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction

from aios_app.models import Team
from workflows.agents import catalog, reconciliation, sales, triage
from workflows.models import Workflow, WorkflowVersion, WorkItem
from workflows.services import work_item_intake, workflow_version_create

INITIAL_ITEMS_PER_WORKFLOW = 6

COLLECTIONS = {
    "sales-playbook": ("Sales playbook", "sales", "Pricing rules, discount policy, clauses."),
    "finance-policies": ("Finance policies", "finance", "Reconciliation policy, tolerances."),
    "support-kb": ("Support knowledge base", "support", "Articles for customer replies."),
}

DEMO_WORKFLOWS: dict[str, dict[str, Any]] = {
    "demo-sales-quotes": {
        "name": "Sales quoting",
        "baseline_cycle_seconds": 2 * 86400,  # manual quotes: two working days
        "description": "Price customer requests from the price book and draft the quote and "
        "cover note; discounts above 10 % are reviewed before the quote goes to the CRM.",
        "agent": "sales_quote",
        "reviewing_team": "sales-desk",
        "escalation_team": "escalations",
        "review_policy": {
            "mode": "auto",
            "confidence_threshold": 0.6,
            "rules": [
                {"field": "discount_pct", "op": "gt", "value": 10, "label": "discount above 10 %"}
            ],
        },
        "input_schema": sales.INPUT_SCHEMA,
        "draft_schema": sales.DRAFT_SCHEMA,
        "steps": {"draft": {"collections": ["sales-playbook"], "template": sales.PROMPT.name}},
        "sla_seconds": 4 * 3600,
    },
    "demo-reconciliation": {
        "name": "Finance reconciliation",
        "baseline_cycle_seconds": 86400,  # manual matching: next day
        "description": "Match bank-statement lines to open ledger entries; commits go to "
        "the ERP and half of them are validated afterwards (rollback on a wrong match).",
        "agent": "reconciliation",
        "reviewing_team": "finance-ops",
        "escalation_team": "escalations",
        "review_policy": {"mode": "post_commit", "sample_rate": 0.5, "confidence_threshold": 0.7},
        "input_schema": reconciliation.INPUT_SCHEMA,
        "draft_schema": reconciliation.DRAFT_SCHEMA,
        "steps": {
            "draft": {"collections": ["finance-policies"], "template": reconciliation.PROMPT.name}
        },
        "sla_seconds": 2 * 24 * 3600,
    },
    "demo-support-triage": {
        "name": "Support triage",
        "baseline_cycle_seconds": 4 * 3600,  # first answer by hand: four hours
        "description": "Classify and prioritise inbound tickets, extract fields and draft a "
        "reply citing the knowledge base; auto-committed, one in five sampled for review.",
        "agent": "triage",
        "reviewing_team": "support",
        "escalation_team": "escalations",
        "review_policy": {"mode": "auto", "sample_rate": 0.2, "confidence_threshold": 0.5},
        "input_schema": triage.INPUT_SCHEMA,
        "draft_schema": triage.DRAFT_SCHEMA,
        "steps": {"draft": {"collections": ["support-kb"], "template": triage.PROMPT.name}},
        "sla_seconds": 8 * 3600,
    },
}
KEY_PREFIX = {
    "demo-sales-quotes": "demo-sales",
    "demo-reconciliation": "demo-recon",
    "demo-support-triage": "demo-support",
}


# --- loading ---------------------------------------------------------------------------


def demo_workflows_load(*, with_items: bool = True) -> None:
    """Load the demo workflows, their knowledge and an initial batch of items.

    Needs the demo teams (`aios_app.demo.demo_accounts_load` runs first). Slow parts
    (embedding the documents) run outside transactions; each write is short.
    """
    from workflows.llm.services import llm_defaults_ensure, prompt_template_save

    llm_defaults_ensure()
    for prompt in (sales.PROMPT, reconciliation.PROMPT, triage.PROMPT):
        prompt_template_save(name=prompt.name, system=prompt.system, user=prompt.user)
    demo_knowledge_load()
    for slug in DEMO_WORKFLOWS:
        demo_workflow_ensure(slug=slug)
    if with_items:
        for slug in DEMO_WORKFLOWS:
            rng = random.Random(f"aios-demo:{slug}")  # same items on every load
            for n in range(1, INITIAL_ITEMS_PER_WORKFLOW + 1):
                work_item_intake(
                    workflow=slug,
                    external_key=f"{KEY_PREFIX[slug]}-{n:03d}",
                    input=sample_input(slug, rng, n=n),
                )


def demo_knowledge_load() -> None:
    from workflows.knowledge.models import Collection
    from workflows.knowledge.services import collection_create, document_ingest

    files = catalog.knowledge_files()
    for slug, (name, domain, description) in COLLECTIONS.items():
        collection = Collection.objects.filter(slug=slug).first()
        if collection is None:
            collection = collection_create(
                name=name, slug=slug, domain=domain, description=description
            )
        for path in files.get(slug, []):
            document_ingest(
                collection_id=collection.id,
                filename=path.name,
                content=path.read_bytes(),
                source=f"demo/{slug}/{path.name}",
            )


def _definition(version: WorkflowVersion) -> dict[str, Any]:
    return {
        "agent": version.agent,
        "reviewing_team": version.reviewing_team.slug,
        "escalation_team": version.escalation_team.slug if version.escalation_team else None,
        "review_policy": version.review_policy,
        "input_schema": version.input_schema,
        "draft_schema": version.draft_schema,
        "connector": version.connector,
        "steps": version.steps,
        "routes": version.routes,
        "sla_seconds": version.sla_seconds,
    }


@transaction.atomic
def demo_workflow_ensure(*, slug: str) -> WorkflowVersion:
    """The demo workflow `slug` at its shipped definition: a new version only when the
    latest differs from it, and never over a version a person made (an admin who pointed
    the workflow at a real model keeps that)."""
    spec = DEMO_WORKFLOWS[slug]
    workflow, _ = Workflow.objects.get_or_create(
        slug=slug,
        defaults={
            "name": spec["name"],
            "description": spec["description"],
            "baseline_cycle_seconds": spec["baseline_cycle_seconds"],
        },
    )
    latest = (
        workflow.versions.select_related("reviewing_team", "escalation_team")
        .order_by("-number")
        .first()
    )
    wanted = {
        "agent": spec["agent"],
        "reviewing_team": spec["reviewing_team"],
        "escalation_team": spec["escalation_team"],
        "review_policy": spec["review_policy"],
        "input_schema": spec["input_schema"],
        "draft_schema": spec["draft_schema"],
        "connector": {"kind": "demo_sink"},
        "steps": spec["steps"],
        "routes": {"draft": "default"},
        "sla_seconds": spec["sla_seconds"],
    }
    if latest is not None and (latest.created_by_id is not None or _definition(latest) == wanted):
        return latest
    teams = {
        t.slug: t for t in Team.objects.filter(slug__in=["escalations", spec["reviewing_team"]])
    }
    return workflow_version_create(
        workflow=workflow,
        agent=wanted["agent"],
        reviewing_team=teams[spec["reviewing_team"]],
        escalation_team=teams.get(spec["escalation_team"]),
        review_policy=wanted["review_policy"],
        input_schema=wanted["input_schema"],
        draft_schema=wanted["draft_schema"],
        connector=wanted["connector"],
        steps=wanted["steps"],
        routes=wanted["routes"],
        sla_seconds=wanted["sla_seconds"],
    )


# --- the trickle -----------------------------------------------------------------------


def demo_trickle_once(*, rng: random.Random | None = None) -> WorkItem | None:
    """Receive one new random sample item for a random active demo workflow (None when
    the demo workflows are not loaded)."""
    rng = rng or random.Random()
    slugs = list(
        Workflow.objects.filter(slug__in=DEMO_WORKFLOWS, is_active=True)
        .filter(versions__isnull=False)
        .values_list("slug", flat=True)
        .distinct()
    )
    if not slugs:
        return None
    slug = rng.choice(sorted(slugs))
    key = f"{KEY_PREFIX[slug]}-{time.time_ns() // 1000}-{rng.randrange(16**4):04x}"
    item, _created = work_item_intake(
        workflow=slug, external_key=key, input=sample_input(slug, rng, n=None)
    )
    return item


# --- realistic samples -----------------------------------------------------------------

CUSTOMERS = [
    "Acme Retail AG", "Delta Foods BV", "Helix Pharma SA", "Northstar Hotels",
    "Brightline Logistics", "Kappa Insurance", "Meridian City Council", "Oakridge Clinics",
    "Polaris Engineering", "Riverside University", "Summit Legal LLP", "Verdant Energy",
]  # fmt: skip
SALES_NOTES = [
    "Renewal of last year's order; procurement wants the quote this week.",
    "New department rollout, they compare us with two other vendors.",
    "Customer is a registered non-profit.",
    "Three-year commitment under discussion.",
    "Public-sector tender, standard terms required.",
    "Expansion after a successful pilot.",
    "They ask whether we can price match a competitor's offer.",
    "",
]  # fmt: skip
UNKNOWN_SKUS = ["CRM-GOLD", "API-1M", "HW-TAB"]
FIRST_NAMES = ["anna", "ben", "chloe", "david", "emma", "farid", "greta", "hugo", "ines", "jon"]
LAST_NAMES = ["meyer", "novak", "rossi", "schmidt", "dubois", "larsen", "kowalski", "silva"]
TICKETS: dict[str, list[tuple[str, str]]] = {
    "billing": [
        ("Charged twice", "Hi, I was charged twice for order {order} ({amount}). "
         "Please refund one of the payments."),
        ("Invoice correction needed", "Our invoice for {order} lists the wrong company "
         "address. Could you reissue it with our new VAT number?"),
        ("Unknown charge", "There is a charge of {amount} on my card from you that I do not "
         "recognise. What is it for?"),
    ],
    "shipping": [
        ("Where is my order?", "My order {order} was supposed to arrive three days ago and "
         "tracking has not changed since Monday."),
        ("Delivered but not received", "Tracking for {order} says delivered, but there was "
         "nothing at my door. Can you check with the carrier?"),
        ("Express delivery", "Can you ship my {product} with express delivery? I need it "
         "before the weekend."),
    ],
    "technical": [
        ("App keeps crashing", "The mobile app crashes whenever I open the reports page. "
         "I already reinstalled it."),
        ("Dashboard down", "The dashboard is down for our whole team and nobody can work. "
         "Please fix this immediately!"),
        ("Upload error", "Uploading our product CSV fails with error 500 since yesterday."),
    ],
    "account": [
        ("Password reset not arriving", "I requested a password reset three times but never "
         "got the email. My address is {email}."),
        ("Locked out", "My account was locked after I mistyped my password. How long until "
         "I can sign in again?"),
        ("Add a colleague", "How can I add a new colleague as a user on our company account?"),
    ],
    "returns": [
        ("Return request", "I would like to return the {product} from order {order}; it is "
         "not what I expected."),
        ("Broken on arrival", "The {product} arrived broken. I want a replacement please."),
        ("Refund still missing", "I sent back the {product} two weeks ago and the refund of "
         "{amount} has still not arrived."),
    ],
}  # fmt: skip
TICKET_PRODUCTS = ["headphones", "blender", "kettle", "coffee machine", "jacket", "shoes"]


def sample_input(slug: str, rng: random.Random, *, n: int | None) -> dict[str, Any]:
    """A realistic input for demo workflow `slug` (`n`: the initial batch's number)."""
    if slug == "demo-sales-quotes":
        return sales_sample(rng)
    if slug == "demo-reconciliation":
        return statement_sample(rng, n=n)
    return ticket_sample(rng)


def sales_sample(rng: random.Random) -> dict[str, Any]:
    skus = sorted(catalog.price_book())
    book = catalog.price_book()
    lines = [
        # seats come by the dozen, everything else by ones and twos
        {
            "sku": sku,
            "qty": rng.choice(
                [5, 10, 25, 50, 60, 120] if "seat" in book[sku].name else [1, 1, 2, 3]
            ),
        }
        for sku in rng.sample(skus, rng.randint(1, 3))
    ]
    if rng.random() < 0.1:
        lines.append({"sku": rng.choice(UNKNOWN_SKUS), "qty": rng.randint(1, 10)})
    return {
        "customer": rng.choice(CUSTOMERS),
        "lines": lines,
        "requested_discount_pct": rng.choice([0, 0, 5, 5, 8, 10, 10, 12, 15, 20]),
        "notes": rng.choice(SALES_NOTES),
    }


def statement_sample(rng: random.Random, *, n: int | None) -> dict[str, Any]:
    """A bank-statement line: mostly a clean match of a ledger entry, sometimes one of
    two look-alike entries (ambiguous), sometimes nothing in the ledger (unmatched)."""
    entries = catalog.ledger()
    roll = rng.random()
    line_id = f"ST-{n:04d}" if n is not None else f"ST-{rng.randrange(10**6):06d}"
    if roll < 0.2:  # no match: an amount far from every open entry
        amount = Decimal(rng.randint(40_000, 90_000)) + Decimal(rng.randint(0, 99)) / 100
        payee = rng.choice(["Unknown Trading Co", "Card settlement", "Cash deposit"])
        line = {
            "date": (date(2025, 5, 1) + timedelta(days=rng.randint(0, 60))).isoformat(),
            "amount": float(-amount),
            "currency": "EUR",
            "reference": f"TRX{rng.randrange(10**8):08d}",
            "description": f"{payee} transfer",
        }
    elif roll < 0.35:  # ambiguous: twin entries with the same payee and amount
        twins = [e for e in entries if e.description.endswith("monthly service fee")]
        entry = rng.choice(twins)
        line = {
            "date": (entry.date + timedelta(days=1)).isoformat(),
            "amount": float(entry.amount),
            "currency": entry.currency,
            "reference": "MONTHLY FEE",
            "description": f"SEPA DD {entry.counterparty.upper()}",
        }
    else:  # a clean match, now and then less a bank fee or without the reference
        plain = [e for e in entries if not e.description.endswith("monthly service fee")]
        entry = rng.choice(plain)
        incoming = entry.amount > 0
        fee = Decimal("-2.50") if incoming and rng.random() < 0.2 else Decimal(0)
        direction = "from" if incoming else "to"
        line = {
            "date": (entry.date + timedelta(days=rng.randint(0, 3))).isoformat(),
            "amount": float(entry.amount + fee),
            "currency": entry.currency,
            "reference": entry.reference if rng.random() < 0.85 else "",
            "description": f"SEPA CT {direction} {entry.counterparty.upper()} {entry.reference}",
        }
    return {"statement_line": {"id": line_id, **line}}


def ticket_sample(rng: random.Random) -> dict[str, Any]:
    category = rng.choice(sorted(TICKETS))
    subject, body = rng.choice(TICKETS[category])
    email = f"{rng.choice(FIRST_NAMES)}.{rng.choice(LAST_NAMES)}@example.com"
    values = {
        "order": f"ORD-{rng.randint(10000, 99999)}",
        "amount": f"{rng.randint(15, 400)}.{rng.randint(0, 99):02d} EUR",
        "product": rng.choice(TICKET_PRODUCTS),
        "email": email,
    }
    return {"subject": subject, "body": body.format(**values), "from_email": email}
