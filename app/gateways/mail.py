"""Email: SMTP through Flask-Mail, or ``.eml`` files in the outbox folder without a server.

``send_email`` sends one message and returns its Message-ID, or raises ``MailError``
saying whether trying again may help (``permanent`` False: a connection problem, a
timeout, a 4xx answer) or not (a 5xx refusal of the recipient or the message).
"""
from __future__ import annotations

import smtplib
import socket
import time
import uuid
from dataclasses import dataclass, field
from email.utils import make_msgid
from pathlib import Path

from flask import current_app
from flask_mail import BadHeaderError, Connection, Mail, Message


class MailError(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


@dataclass
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str | None = None
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)  # name, type, data


def outbox_dir() -> Path:
    configured = current_app.config.get("NOTIFICATION_OUTBOX_DIR")
    path = Path(configured) if configured else Path(current_app.config["INSTANCE_DIR"]) / "outbox"
    path.mkdir(parents=True, exist_ok=True)
    return path


def build_message(email: OutgoingEmail) -> Message:
    domain = (current_app.config.get("MAIL_DEFAULT_SENDER") or "").rpartition("@")[2].strip(">")
    message = Message(subject=email.subject, recipients=[email.to], body=email.text,
                      html=email.html, sender=current_app.config.get("MAIL_DEFAULT_SENDER"),
                      date=time.time())
    message.msgId = make_msgid(domain=domain or None)
    for filename, content_type, data in email.attachments:
        message.attach(filename=filename, content_type=content_type, data=data)
    return message


def send_email(email: OutgoingEmail) -> str:
    """Send one email; returns its Message-ID."""
    state = _mail_state()
    current_app.extensions["mail"] = state  # Flask-Mail's messages read their settings here
    message = build_message(email)
    message_id = message.msgId
    try:
        if message.has_bad_headers():
            raise BadHeaderError()
        if not current_app.config.get("MAIL_SERVER"):
            return _write_eml(message, message_id)
        with _TimedConnection(state) as connection:
            connection.send(message)
    except MailError:
        raise
    except Exception as exc:
        raise classify(exc) from exc
    return message_id


def _write_eml(message: Message, message_id: str) -> str:
    name = f"{message_id.strip('<>').split('@')[0] or uuid.uuid4().hex}.eml"
    (outbox_dir() / name).write_bytes(message.as_bytes())
    return message_id


def _mail_state():
    """Flask-Mail's settings from ours. Sending is never suppressed here: whether to send
    is decided by MAIL_SERVER (Flask-Mail alone would stay silent whenever TESTING is on)."""
    config = dict(current_app.config)
    config["MAIL_SUPPRESS_SEND"] = False
    return Mail().init_mail(config, debug=False, testing=False)


class _TimedConnection(Connection):
    """Flask-Mail's connection with a timeout (MAIL_TIMEOUT): a dead relay fails the
    attempt instead of holding the worker forever."""

    def configure_host(self):
        timeout = float(current_app.config.get("MAIL_TIMEOUT") or 10.0)
        smtp = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = smtp(self.mail.server, self.mail.port, timeout=timeout)
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host

    def __exit__(self, exc_type, exc_value, tb):
        # A server that hung up (421) makes QUIT fail too: keep the first error.
        try:
            super().__exit__(exc_type, exc_value, tb)
        except (smtplib.SMTPException, OSError):
            if exc_type is None:
                raise


def classify(exc: Exception) -> MailError:
    """Whether a failure is worth another try."""
    if isinstance(exc, BadHeaderError):
        return MailError("The message has a line break in a header (bad address or subject).",
                         permanent=True)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(f"{rcpt}: {code} {_text(text)}"
                           for rcpt, (code, text) in exc.recipients.items())
        permanent = bool(codes) and all(500 <= code < 600 for code in codes)
        return MailError(f"Recipient refused: {detail}", permanent=permanent)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        # Our credentials, not the message: fixing the settings makes a retry succeed.
        return MailError(f"SMTP login refused: {exc.smtp_code} {_text(exc.smtp_error)}",
                         permanent=False)
    if isinstance(exc, smtplib.SMTPResponseException):
        permanent = 500 <= exc.smtp_code < 600
        return MailError(f"SMTP {exc.smtp_code} {_text(exc.smtp_error)}", permanent=permanent)
    if isinstance(exc, (smtplib.SMTPException, socket.timeout, OSError)):
        return MailError(f"SMTP unavailable: {type(exc).__name__}: {exc}", permanent=False)
    return MailError(f"{type(exc).__name__}: {exc}", permanent=False)


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
