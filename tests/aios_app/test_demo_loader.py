from io import StringIO

from django.contrib.auth.models import User
from django.core.management import call_command

from aios_app.models import Team


def test_demo_loader_is_idempotent(db):
    # when loaded twice
    call_command("load_demo", stdout=StringIO())
    counts = (User.objects.count(), Team.objects.count())
    call_command("load_demo", stdout=StringIO())
    # then nothing is duplicated
    assert (User.objects.count(), Team.objects.count()) == counts


def test_demo_reviewers_span_at_least_two_teams(db):
    call_command("load_demo", stdout=StringIO())
    reviewer_teams = Team.objects.filter(members__groups__name="Reviewer").distinct()
    assert reviewer_teams.count() >= 2
    assert User.objects.get(username="rita").check_password("aios-demo")
