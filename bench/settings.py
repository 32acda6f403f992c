"""Settings of the benchmark's server: the real settings (from the
environment bench/run.py sets), with the bench URLs, which add the ceiling
view. commerce/urls.py stays as it is."""

from commerce.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
DEBUG = False
