"""A deploy loses no work: a worker killed in the middle of a task leaves
it to the next, which does it once; a worker told to stop finishes the task
it is in; a web server told to stop closes its WebSockets with 1012
(service restart), for clients to reconnect elsewhere. Real processes, on
PostgreSQL and Redis (README "Graceful restarts")."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from apps.notifications.models import Notification
from commerce.celery import app
from tests import contract
from tests.celery_worker import Worker, worker_env
from tests.conftest import Client, make_user, token_for
from tests.factories import make_order, make_product, make_variant
from tests.smtp_sink import SMTPSink

pytestmark = [pytest.mark.postgresql, pytest.mark.redis,
              pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def publishing():
    """The test process publishes tasks to the broker, as a web process does."""
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    app.control.purge()
    try:
        yield
    finally:
        app.conf.task_always_eager = eager


@pytest.fixture
def mail():
    sink = SMTPSink()
    yield sink
    sink.accepting.set()
    sink.close()


def request_reset(email: str) -> None:
    data = Client().execute(contract.operations("storefront/account.graphql",
                                                "PasswordResetRequest"), {"email": email})
    assert data["passwordResetRequest"]["errors"] == []


def sent_to(mail: SMTPSink, email: str) -> int:
    return sum(1 for m in mail.messages
               if email in [a.addr_spec for a in m["To"].addresses])


def test_a_worker_killed_in_a_task_leaves_it_to_the_next_which_does_it_once(
        publishing, mail, tmp_path):
    env = {**worker_env(mail=mail), "CELERY_VISIBILITY_TIMEOUT": "2"}
    ada = make_user(first_name="Ada")
    mail.accepting.clear()
    first = Worker(env=env, log=tmp_path / "first.log", mail=mail)
    try:
        first.wait_until_ready()
        request_reset(ada.email)
        assert mail.sending.wait(timeout=30), first.output()[-3000:]
        first.process.send_signal(signal.SIGKILL)  # in the middle of sending
        first.process.wait(timeout=10)
    finally:
        first.stop() if first.process.poll() is None else None
    mail.accepting.set()
    second = Worker(env=env, log=tmp_path / "second.log", mail=mail)
    try:
        second.wait_until_ready()
        # The broker gives the unacknowledged task again once its visibility
        # timeout has passed; the new worker sends the email.
        second.eventually(lambda: Notification.objects.filter(
            recipient=ada.email, status="SENT").exists(), timeout=60)
    finally:
        second.stop()
    assert sent_to(mail, ada.email) == 1
    assert Notification.objects.get(recipient=ada.email).attempts == 1


def test_a_worker_told_to_stop_finishes_its_task_first(publishing, mail, tmp_path):
    grace = make_user(first_name="Grace")
    mail.accepting.clear()
    worker = Worker(env=worker_env(mail=mail), log=tmp_path / "worker.log", mail=mail)
    try:
        worker.wait_until_ready()
        request_reset(grace.email)
        assert mail.sending.wait(timeout=30), worker.output()[-3000:]
        worker.process.send_signal(signal.SIGTERM)  # warm shutdown, as a deploy sends
        worker.eventually(lambda: "Warm shutdown" in worker.output())
        assert worker.process.poll() is None, "the worker left before its task ended"
        mail.accepting.set()
        assert worker.process.wait(timeout=30) == 0
    finally:
        if worker.process.poll() is None:
            worker.stop()
    assert sent_to(mail, grace.email) == 1
    assert Notification.objects.get(recipient=grace.email).status == "SENT"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_web_server_told_to_stop_closes_websockets_with_1012(mail, tmp_path):
    customer = make_user()
    variant = make_variant(product=make_product(name="Candle"), price="9.00", stock=5)
    order = make_order(user=customer, lines=[(variant, 1)])
    port = free_port()
    env = {**worker_env(mail=mail), "GUNICORN_BIND": f"127.0.0.1:{port}",
           "WEB_CONCURRENCY": "1", "GUNICORN_GRACEFUL_TIMEOUT": "10",
           "ALLOWED_HOSTS": "127.0.0.1,localhost"}
    log = (tmp_path / "web.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                               "commerce.asgi:application"], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (
                    (tmp_path / "web.log").read_text()[-3000:])
                time.sleep(0.1)
        from strawberry import relay

        with connect(f"ws://127.0.0.1:{port}/graphql/", subprotocols=["graphql-transport-ws"],
                     open_timeout=20) as ws:
            ws.send(json.dumps({"type": "connection_init",
                                "payload": {"Authorization": f"Bearer {token_for(customer)}"}}))
            assert json.loads(ws.recv(timeout=20))["type"] == "connection_ack"
            ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                "query": "subscription($id: ID!) { orderUpdated(id: $id) { status } }",
                "variables": {"id": str(relay.GlobalID("Order", str(order.pk)))}}}))
            first = json.loads(ws.recv(timeout=20))
            assert first["type"] == "next", first
            assert first["payload"]["data"]["orderUpdated"]["status"] == "PENDING"
            os.kill(server.pid, signal.SIGTERM)  # what a deploy sends gunicorn
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    ws.recv(timeout=20)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()
