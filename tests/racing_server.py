"""Preloaded by the fork server of tests.concurrency.in_processes: Django
set up once, with what the test modules import, so that every racing
process forked from the server starts with it instead of importing it all
again. Setting up opens no connection and starts no thread, so the forks
share nothing but memory; each opens its own connection
(tests.racing.race)."""

import django

django.setup()

import pytest  # noqa: E402, F401 - the main module of the run, imported again by each process

import tests.conftest  # noqa: E402, F401 - what the test modules import
import tests.factories  # noqa: E402, F401
import tests.racing  # noqa: E402, F401 - what the racing processes run
