"""The review loop in Chromium against the live ASGI server (Daphne): claim, edit,
approve with the keyboard, next item; a second reviewer's queue updates live."""

from __future__ import annotations

import re

import pytest

from tests.reviews.factories import make_review_items
from workflows.models import WorkItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reviewer_edits_and_approves_with_keyboard_and_teammate_queue_updates_live(
    login_page, reviewer, teammate, version
):
    # given three items, highest priority first
    first, second, _third = make_review_items(version, 3, priority=lambda i: 10 - i)
    bob = login_page(teammate)
    bob.goto("/reviews/")
    bob.wait_for_selector("#live-state[data-state=live]")
    assert bob.locator(f"#row-{first.pk}").count() == 1
    alice = login_page(reviewer)
    alice.goto("/reviews/")
    alice.wait_for_selector("#live-state[data-state=live]")

    # when Alice opens the top item from the keyboard
    alice.keyboard.press("j")
    alice.keyboard.press("Enter")
    alice.wait_for_url(re.compile(rf"/reviews/items/{first.pk}/"))
    alice.wait_for_selector("#claim-banner[data-held=me]")
    alice.wait_for_selector("#live-state[data-state=live]")
    # then Bob sees that she is reviewing it, without reloading
    bob.wait_for_selector(f"#row-{first.pk} [data-testid=claimed-by]", timeout=2000)
    assert "being reviewed by alice" in bob.locator(f"#row-{first.pk}").inner_text()

    # when she edits a field and approves with the keyboard
    alice.keyboard.press("e")
    assert alice.evaluate("document.activeElement.classList.contains('draft-input')")
    alice.locator("[name='field:customer']").fill("Customer Zero Ltd")
    alice.keyboard.press("Escape")
    alice.keyboard.press("a")
    # then she lands on the next item
    alice.wait_for_url(re.compile(rf"/reviews/items/{second.pk}/"))
    # and Bob's queue drops the approved item within a second, without reloading
    bob.wait_for_selector(f"#row-{first.pk}", state="detached", timeout=1000)
    assert bob.locator(f"#row-{second.pk}").count() == 1

    first.refresh_from_db()
    assert first.status == "approved"
    event = first.events.get(to_status="approved")
    assert event.payload["diff"] == {
        "customer": {"before": "Customer 0", "after": "Customer Zero Ltd"}
    }
    alice.wait_for_selector("#claim-banner[data-held=me]")  # the next item is hers now
    assert WorkItem.objects.get(pk=second.pk).claimed_by == reviewer
