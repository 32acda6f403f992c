"""Media and private storage from the environment (README "Scaling out"):
several machines share one bucket by naming its backend and options."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def storages(**env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("MEDIA_STORAGE", "PRIVATE_STORAGE"))}
    return subprocess.run(
        [sys.executable, "-c", "import json, commerce.settings as s; print(json.dumps(s.STORAGES))"],
        cwd=ROOT, env={**environment, **env}, capture_output=True, text=True, timeout=60)


def test_by_default_files_stay_on_this_machine():
    found = json.loads(storages().stdout)
    assert found["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert found["private"]["BACKEND"] == "apps.privacy.storage.PrivateFileSystemStorage"


def test_a_shared_backend_and_its_options_come_from_the_environment():
    found = json.loads(storages(
        MEDIA_STORAGE_BACKEND="storages.backends.s3.S3Storage",
        MEDIA_STORAGE_OPTIONS='{"bucket_name": "shop-media", "querystring_auth": false}',
        PRIVATE_STORAGE_BACKEND="storages.backends.s3.S3Storage",
        PRIVATE_STORAGE_OPTIONS='{"bucket_name": "shop-private", "default_acl": "private"}',
    ).stdout)
    assert found["default"] == {"BACKEND": "storages.backends.s3.S3Storage",
                                "OPTIONS": {"bucket_name": "shop-media",
                                            "querystring_auth": False}}
    assert found["private"]["OPTIONS"]["bucket_name"] == "shop-private"


def test_options_that_are_not_a_json_object_are_refused_at_start():
    for bad in ("{bucket_name: x}", "[1, 2]"):
        result = storages(MEDIA_STORAGE_BACKEND="x.Y", MEDIA_STORAGE_OPTIONS=bad)
        assert result.returncode != 0
        assert "MEDIA_STORAGE_OPTIONS must be a JSON object" in result.stderr
