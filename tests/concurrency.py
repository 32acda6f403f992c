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


def in_processes(count: int, work: str, *args) -> list:
    """`work(index, *args)` in `count` processes released together, each with
    its own interpreter and connection: what several server processes do
    (under ASGI a process runs its database work on one thread, so threads
    of one process never race in production).

    `work` is a dotted path ("tests.test_process_races:take_one") and `args`
    must pickle: the processes are not forks of the test process (one with
    its threads and open sockets can hang) but of a fork server, started
    once for the run, that has set Django up (tests.racing_server) and
    nothing else: a racing process skips the seconds of Django's start-up
    (a test took 25 to 50 s when each process was spawned and set Django up
    on two busy cores, 2 to 9 s forked). Each result, or the exception it
    raised as `tests.racing.Raised(type name, message, code)`. The test must
    commit what the children read (a transactional test)."""
    import multiprocessing

    from django.db import connection

    from tests.racing import race

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tests.racing_server"])
    barrier = context.Barrier(count)
    queue = context.Queue()
    database = connection.settings_dict["NAME"]
    processes = [
        context.Process(target=race, args=(database, work, index, args, barrier, queue))
        for index in range(count)
    ]
    for process in processes:
        process.start()
    results: list = [None] * count
    for _ in processes:
        # A process that dies before answering (it cannot start Django, say)
        # fails the test rather than hanging it.
        index, outcome = queue.get(timeout=120)
        results[index] = outcome
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0, f"a racing process exited with {process.exitcode}"
    return results
