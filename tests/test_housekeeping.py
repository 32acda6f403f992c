from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from apps.accounts import services, tasks
from apps.accounts.models import RefreshToken
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def test_expired_refresh_tokens_are_deleted_and_live_ones_kept():
    user = make_user()
    services.token_auth(email=user.email, password="correct-horse-battery")
    services.token_auth(email=user.email, password="correct-horse-battery")
    old = RefreshToken.objects.filter(user=user).first()
    old.expires_at = timezone.now() - timedelta(seconds=1)
    old.save(update_fields=["expires_at"])

    assert tasks.delete_expired_refresh_tokens.delay().get() == 1
    assert RefreshToken.objects.filter(user=user).count() == 1


def test_beat_runs_the_cleanup_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["delete-expired-refresh-tokens"]
    assert entry["task"] == tasks.delete_expired_refresh_tokens.name
