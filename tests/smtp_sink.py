"""A mail server the tests start, for a process that sends email through
Django's SMTP backend (the Celery worker of tests/test_worker.py): a
threaded server on a free port of 127.0.0.1 that speaks just enough SMTP
(no TLS, no authentication) to take messages and keep them, parsed.

The test process's own email goes to Django's locmem outbox; a worker in
another process can only hand its mail to a server, as in production."""

import email
import email.policy
import socketserver
import threading
import time
from email.message import EmailMessage


class _Session(socketserver.StreamRequestHandler):
    server: "_Server"

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 sink ESMTP")
        data: list[bytes] | None = None
        while line := self.rfile.readline():
            if data is not None:  # the message, up to a line holding a dot
                if line.rstrip(b"\r\n") == b".":
                    self.server.sink.keep(b"".join(data))
                    data = None
                    self.reply("250 OK")
                else:
                    data.append(line[1:] if line.startswith(b"..") else line)
                continue
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.reply("250 sink")
            elif verb == b"DATA":
                # A test holding the sink keeps the sender here, in the
                # middle of sending (tests/test_graceful_restarts.py).
                self.server.sink.sending.set()
                self.server.sink.accepting.wait(timeout=120)
                data = []
                self.reply("354 End data with <CR><LF>.<CR><LF>")
            elif verb == b"QUIT":
                self.reply("221 Bye")
                return
            else:  # MAIL, RCPT, RSET, NOOP
                self.reply("250 OK")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    sink: "SMTPSink"


class SMTPSink:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._changed = threading.Condition()
        # Cleared: a sender is kept waiting at DATA until it is set again.
        self.accepting = threading.Event()
        self.accepting.set()
        self.sending = threading.Event()
        self.server = _Server(("127.0.0.1", 0), _Session)
        self.server.sink = self
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def keep(self, raw: bytes) -> None:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._changed:
            self.messages.append(message)
            self._changed.notify_all()

    def wait_for(self, to: str, *, timeout: float) -> EmailMessage:
        """The first message to `to`, waiting for it up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for message in self.messages:
                    if to in [address.addr_spec for address in message["To"].addresses]:
                        return message
                left = deadline - time.monotonic()
                assert left > 0, f"no email to {to} within {timeout} s: {self.sent_to()}"
                self._changed.wait(left)

    def sent_to(self) -> list[str]:
        return [str(message["To"]) for message in self.messages]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def text_of(message: EmailMessage) -> str:
    """The plain-text body (the whole message when it has no other part)."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None, message
    return str(body.get_content())
