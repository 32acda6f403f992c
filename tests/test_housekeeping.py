from datetime import timedelta

import pytest
from celery.schedules import maybe_schedule
from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from apps.accounts import services, tasks
from apps.accounts.models import RefreshToken
from commerce.celery import app
from tests.conftest import make_user


@pytest.mark.django_db
def test_expired_refresh_tokens_are_deleted_and_live_ones_kept():
    user = make_user()
    services.token_auth(email=user.email, password="correct-horse-battery")
    services.token_auth(email=user.email, password="correct-horse-battery")
    old = RefreshToken.objects.filter(user=user).first()
    old.expires_at = timezone.now() - timedelta(seconds=1)
    old.save(update_fields=["expires_at"])

    assert tasks.delete_expired_refresh_tokens.delay().get() == 1
    assert RefreshToken.objects.filter(user=user).count() == 1


@pytest.mark.parametrize("name", sorted(settings.CELERY_BEAT_SCHEDULE))
def test_every_beat_entry_names_a_registered_task(name):
    path = settings.CELERY_BEAT_SCHEDULE[name]["task"]
    app.loader.import_default_modules()  # what a worker does at start: autodiscovery
    assert app.tasks[path] == import_string(path)  # shared_task gives a proxy


def test_beat_runs_the_cleanup_daily():
    entry = app.conf.beat_schedule["delete-expired-refresh-tokens"]
    assert import_string(entry["task"]) == tasks.delete_expired_refresh_tokens
    schedule = maybe_schedule(entry["schedule"], app=app)  # as beat reads it
    now = schedule.now()
    assert not schedule.is_due(now - timedelta(hours=23, minutes=59)).is_due
    assert schedule.is_due(now - timedelta(hours=24)).is_due
