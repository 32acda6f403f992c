"""What a process started by tests.concurrency.in_processes runs. Only the
standard library at the top: the module is imported before Django is set
up in the new process."""

from typing import NamedTuple


def race(database: str, work: str, index: int, args: tuple, barrier, queue) -> None:
    """A racing process: Django on the test database, then `work` at the
    barrier."""
    import importlib

    import django
    from django.conf import settings

    django.setup()
    settings.DATABASES["default"]["NAME"] = database
    module, _, name = work.partition(":")
    function = getattr(importlib.import_module(module), name)
    from django.db import connections

    try:
        connections["default"].ensure_connection()
        barrier.wait(timeout=60)
        outcome = function(index, *args)
    except Exception as error:  # noqa: BLE001 - reported to the test
        codes = [str(e.code) for e in getattr(error, "errors", [])]
        outcome = Raised(type(error).__name__, str(error), codes[0] if codes else "")
    finally:
        connections.close_all()
    queue.put((index, outcome))


class Raised(NamedTuple):
    """What a racing process raised, in a form that crosses processes."""

    type: str
    message: str
    code: str
