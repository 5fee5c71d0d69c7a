"""The reviewer socket over the real Redis channel layer: authentication, per-team
authorisation, and events from a committed decision."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from reviews.consumers import ReviewConsumer
from reviews.services import work_item_approve, work_item_claim
from tests.reviews.factories import make_review_items

pytestmark = pytest.mark.django_db(transaction=True)
PATH = "/ws/reviews/"


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """A channel layer per test: each test runs its own event loop, and a channels_redis
    layer remembers the loop that last received on it (a cancelled receive from the
    previous test's loop could leave the next one waiting)."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def run(scenario) -> None:
    """Run an async scenario on its own loop in a fresh thread (the Playwright fixture may
    hold an event loop in this thread)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, scenario()).result(timeout=60)


def _communicator(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(ReviewConsumer.as_asgi(), PATH)
    communicator.scope["user"] = user
    return communicator


def test_unauthenticated_socket_is_closed_through_the_real_stack():
    from aios_app.asgi import application

    async def scenario():
        communicator = WebsocketCommunicator(
            application, PATH, headers=[(b"origin", b"http://localhost"), (b"host", b"localhost")]
        )
        connected, code = await communicator.connect()
        assert (connected, code) == (False, 4401)

    run(scenario)


def test_manager_socket_is_closed(manager):
    async def scenario():
        connected, code = await _communicator(manager).connect()
        assert (connected, code) == (False, 4403)

    run(scenario)


def test_anonymous_user_scope_is_closed():
    async def scenario():
        connected, code = await _communicator(AnonymousUser()).connect()
        assert (connected, code) == (False, 4401)

    run(scenario)


def test_reviewer_receives_own_team_events_and_is_refused_other_groups(
    reviewer, teammate, other_team_reviewer, version, other_team
):
    # given an item of Alice's team and one of another team
    (mine,) = make_review_items(version, 1)
    (theirs,) = make_review_items(version, 1, team_id=other_team.pk, key_prefix="O")

    async def scenario():
        alice = _communicator(reviewer)
        assert (await alice.connect())[0]
        assert (await alice.receive_json_from())["type"] == "hello"
        # when she asks for the other team's queue and item
        await alice.send_json_to({"type": "subscribe", "team_id": other_team.pk})
        assert (await alice.receive_json_from())["type"] == "refused"
        await alice.send_json_to({"type": "subscribe", "item_id": theirs.pk})
        assert (await alice.receive_json_from())["type"] == "refused"
        # and the other team's item changes, then hers
        await sync_to_async(work_item_claim)(item_id=theirs.pk, reviewer=other_team_reviewer)
        await sync_to_async(work_item_approve)(item_id=mine.pk, reviewer=teammate)
        # then she hears only about hers, with ids only
        message = await alice.receive_json_from(timeout=3)
        assert message["type"] == "event"
        assert message["item_id"] == mine.pk
        assert message["status"] == "approved"
        assert set(message) == {"type", "event_id", "item_id", "status", "kind", "team_id"}
        assert await alice.receive_nothing(timeout=0.3)
        await alice.disconnect()

    run(scenario)


def test_item_subscription_shares_presence(reviewer, teammate, version):
    (item,) = make_review_items(version, 1)

    async def scenario():
        alice, bob = _communicator(reviewer), _communicator(teammate)
        for c in (alice, bob):
            assert (await c.connect())[0]
            await c.receive_json_from()  # hello
        await alice.send_json_to({"type": "subscribe", "item_id": item.pk})
        assert (await alice.receive_json_from())["type"] == "subscribed"
        await bob.send_json_to({"type": "subscribe", "item_id": item.pk})
        assert (await bob.receive_json_from())["type"] == "subscribed"
        # Alice learns Bob joined; Bob learns Alice is here
        joined = await alice.receive_json_from(timeout=3)
        assert (joined["type"], joined["user"], joined["state"]) == ("presence", "bob", "join")
        here = await bob.receive_json_from(timeout=3)
        assert (here["user"], here["state"]) == ("alice", "here")
        await bob.disconnect()
        left = await alice.receive_json_from(timeout=3)
        assert (left["user"], left["state"]) == ("bob", "leave")
        await alice.disconnect()

    run(scenario)


def test_idle_socket_still_receives_events_after_the_blocking_pop_timeout(reviewer, version):
    # given a socket idle for longer than channels-redis's 5 s blocking pop
    (item,) = make_review_items(version, 1)

    async def scenario():
        alice = _communicator(reviewer)
        assert (await alice.connect())[0]
        await alice.receive_json_from()  # hello
        await asyncio.sleep(6)
        # when an event comes
        await sync_to_async(work_item_claim)(item_id=item.pk, reviewer=reviewer)
        # then it is still delivered
        message = await alice.receive_json_from(timeout=3)
        assert (message["item_id"], message["kind"]) == (item.pk, "claimed")
        await alice.disconnect()

    run(scenario)
