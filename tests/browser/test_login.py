import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reviewer_logs_in_and_sees_their_navigation(login_page, reviewer):
    # when Alice logs in through the real form in Chromium
    page = login_page(reviewer)
    # then she lands on her start page with the queue in the navigation, nothing else
    assert page.locator("[data-testid=current-user]").inner_text() == "alice"
    nav = page.locator("nav.nav").inner_text()
    assert "Queue" in nav
    assert "Workflows" not in nav
