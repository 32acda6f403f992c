"""Helpers of the tests that race real transactions on PostgreSQL: work
started at one moment in several threads, each with its own connection."""

import threading

import pytest
from django.db import connection

from apps.inventory import services


@pytest.fixture
def keeps_default_warehouse(django_db_blocker):
    """A transactional test ends by emptying every table, and the default
    warehouse comes from a data migration: make sure it is there, and put it
    back afterwards for the tests that follow (and the next run on a reused
    database). Requested before transactional_db, so it is torn down after."""
    with django_db_blocker.unblock():
        services.default_warehouse()
    yield
    with django_db_blocker.unblock():
        services.default_warehouse()


def in_threads(count: int, work) -> list:
    """`work(index)` in `count` threads released together; each result, or
    the exception it raised."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as error:  # noqa: BLE001 - reported to the test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
