"""A local SMTP server (aiosmtpd) the app sends its mail to in tests, keeping every message."""
from __future__ import annotations

import email
import email.policy
import socket
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpRecorder:
    def __init__(self):
        self.messages = []  # (envelope recipients, parsed message)
        self.refuse_rcpt: dict[str, str] = {}
        self.data_reply: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        parsed = email.message_from_bytes(envelope.original_content or envelope.content,
                                          policy=email.policy.default)
        self.messages.append((sorted(envelope.rcpt_tos), parsed))
        return "250 Message accepted"

    def to(self, address):
        return [message for rcpts, message in self.messages if address in rcpts]


@contextmanager
def recording_smtp(app, monkeypatch):
    """Point the app's mail settings at a fresh local SMTP server; its recorder."""
    from aiosmtpd.controller import Controller

    recorder = SmtpRecorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    for key, value in {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_USE_TLS": False,
                       "MAIL_USE_SSL": False, "MAIL_USERNAME": None, "MAIL_PASSWORD": None,
                       "MAIL_TIMEOUT": 5.0}.items():
        monkeypatch.setitem(app.config, key, value)
    try:
        yield recorder
    finally:
        controller.stop()
