"""The outside-calendar fetch connects to the address it checked, yet TLS still checks the
certificate against the address's host name (a local HTTPS server with its own CA)."""
from __future__ import annotations

import datetime
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.gateways import calendar_fetch, outbound_address
from app.gateways.calendar_fetch import FetchFailed, FetchLimits

BODY = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"


def _certificate(tmp_path, name: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


class _Calendar(BaseHTTPRequestHandler):
    hosts: list[str] = []

    def do_GET(self):  # noqa: N802 - the stdlib's name
        self.hosts.append(self.headers["Host"])
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def https_server(tmp_path, monkeypatch):
    def serve(certificate_for: str):
        cert, key = _certificate(tmp_path, certificate_for)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Calendar)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        monkeypatch.setattr(outbound_address, "_ca_certs", lambda: cert)  # trust its CA
        return server.server_address[1]

    servers: list = []
    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def _resolve_to_loopback(host, port, **kwargs):
    import socket

    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]


def test_the_certificate_is_checked_against_the_host_name(https_server):
    port = https_server("calendar.test")
    limits = FetchLimits(allowed=("127.0.0.1",))
    fetched = calendar_fetch.fetch(f"https://calendar.test:{port}/a.ics", limits=limits,
                                   resolve=_resolve_to_loopback)
    assert fetched.body == BODY
    assert _Calendar.hosts[-1] == f"calendar.test:{port}"

    other = https_server("elsewhere.test")
    with pytest.raises(FetchFailed) as refused:
        calendar_fetch.fetch(f"https://calendar.test:{other}/a.ics", limits=limits,
                             resolve=_resolve_to_loopback)
    assert "certificate did not check out" in refused.value.message
