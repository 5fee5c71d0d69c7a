"""Every page checks its role: anonymous → login, wrong role → 403, right role → 200."""

import pytest
from django.urls import reverse

from aios_app.context_processors import NAVIGATION
from tests.conftest import PASSWORD

PAGES = [(url_name, perm) for _label, url_name, perm in NAVIGATION]
PERSONA_FOR_PERM = {
    "aios_app.review_work": "reviewer",
    "aios_app.admin_workflows": "workflow_admin",
    "aios_app.view_kpis": "manager",
    "aios_app.view_audit": "auditor",
}


@pytest.mark.parametrize(("url_name", "perm"), PAGES)
def test_anonymous_is_sent_to_login(client, db, url_name, perm):
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("url_name", "perm"), PAGES)
def test_each_role_reaches_only_its_pages(client, request, url_name, perm):
    for perm_name, persona in PERSONA_FOR_PERM.items():
        user = request.getfixturevalue(persona)
        client.force_login(user)
        response = client.get(reverse(url_name))
        expected = 200 if perm_name == perm else 403
        assert response.status_code == expected, (persona, url_name, response.status_code)
        client.logout()


def test_navigation_shows_only_what_the_role_may_use(client, reviewer):
    client.force_login(reviewer)
    html = client.get(reverse("home")).content.decode()
    assert reverse("reviews:queue") in html
    assert reverse("workflows:workflow-list") not in html
    assert reverse("kpis") not in html


def test_user_without_role_sees_guidance(client, no_role_user):
    client.force_login(no_role_user)
    html = client.get(reverse("home")).content.decode()
    assert "no role yet" in html


def test_login_form_rejects_bad_password(client, reviewer):
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert "didn't match" in response.content.decode()


def test_login_form_accepts_good_password(client, reviewer):
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
