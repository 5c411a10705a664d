"""Ports for ``make run``: the app's own port must be free; a local stand-in moves.

``PORT`` is where people were told the app is, so a taken one is an error, found before
the slow install and migrate steps (``make run`` calls ``preflight`` first). A local
stand-in (the Stripe and PayPal test servers) only has to be reachable by the app, which
``bin/run-server`` points at whatever port it gets: when its default is taken it takes the
next free one and says so. A port chosen on purpose (``LOCAL_STRIPE_PORT``, ...) is kept
or refused, never moved.

Standard library only: ``preflight`` runs before the virtualenv exists::

    python3 -m devservices.ports preflight        # exit 1 with a message if PORT is taken
    .venv/bin/python -m devservices.ports stand-in stripe   # the port to use (and why)
"""
from __future__ import annotations

import argparse
import os
import socket
import sys
from dataclasses import dataclass
from typing import Collection, Mapping

HOST = "127.0.0.1"
APP_PORT_VARIABLE = "PORT"
DEFAULT_APP_PORT = 5000
#: How far above its default a stand-in looks for a free port before asking the system.
SEARCH_SPAN = 100
PREFIX = "run-server"


@dataclass(frozen=True)
class StandIn:
    title: str  # as the messages name it
    variable: str  # the environment variable that chooses its port
    default_port: int
    replaced_by: str  # set, a real service is used and the stand-in is not started


STAND_INS = {
    "stripe": StandIn("the local Stripe test server", "LOCAL_STRIPE_PORT", 8420,
                      "STRIPE_SECRET_KEY"),
    "paypal": StandIn("the local PayPal test server", "LOCAL_PAYPAL_PORT", 8421,
                      "PAYPAL_CLIENT_ID"),
}


class PortProblem(Exception):
    """A port that was asked for cannot be used; the message says what to do."""


def port_is_free(port: int, host: str = HOST) -> bool:
    """Whether a server could listen on host:port now. SO_REUSEADDR as the servers set it,
    so a connection lingering in TIME_WAIT does not count as taken, a listener does."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _port_from(env: Mapping[str, str], variable: str, default: int | None) -> int | None:
    raw = (env.get(variable) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise PortProblem(f"{variable}={raw} is not a port number (1-65535)")
    return int(raw)


def next_free_port(start: int, *, avoid: Collection[int] = (), host: str = HOST) -> int:
    """The first free port from ``start`` up (within SEARCH_SPAN), else one the system picks."""
    for candidate in range(start, min(start + SEARCH_SPAN, 65536)):
        if candidate not in avoid and port_is_free(candidate, host):
            return candidate
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def app_port(env: Mapping[str, str]) -> int:
    """PORT, which must be free: the app is never moved to another port."""
    port = _port_from(env, APP_PORT_VARIABLE, DEFAULT_APP_PORT)
    if not port_is_free(port):
        suggestion = next_free_port(port + 1)
        raise PortProblem(
            f"port {port} (PORT) is taken: another program listens on {HOST}:{port}. "
            f"Stop it, or serve Bookwell on another port, e.g. PORT={suggestion} make run")
    return port


def _stand_ins_started(env: Mapping[str, str]) -> dict[str, StandIn]:
    return {name: s for name, s in STAND_INS.items() if not env.get(s.replaced_by)}


def _explicit_port(env: Mapping[str, str], stand_in: StandIn) -> int | None:
    return _port_from(env, stand_in.variable, None)


def stand_in_port(name: str, env: Mapping[str, str]) -> tuple[int, str | None]:
    """The port for stand-in ``name`` and, when it is not the default, a note saying so.

    Never PORT, nor the port another stand-in was given or will try first."""
    stand_in = STAND_INS[name]
    explicit = _explicit_port(env, stand_in)
    if explicit is not None:
        _check_explicit(stand_in, explicit, env)
        return explicit, None
    claims = {_explicit_port(env, other) or other.default_port: other.variable
              for other_name, other in STAND_INS.items() if other_name != name}
    claims[_port_from(env, APP_PORT_VARIABLE, DEFAULT_APP_PORT)] = APP_PORT_VARIABLE
    default = stand_in.default_port
    if default not in claims and port_is_free(default):
        return default, None
    port = next_free_port(default + 1, avoid=claims)
    why = f"is {claims[default]}" if default in claims else "is taken"
    return port, (f"port {default} {why}, so {stand_in.title} listens on {HOST}:{port} "
                  f"(set {stand_in.variable} to choose its port)")


def _check_explicit(stand_in: StandIn, port: int, env: Mapping[str, str]) -> None:
    if port == _port_from(env, APP_PORT_VARIABLE, DEFAULT_APP_PORT):
        raise PortProblem(f"{stand_in.variable} and PORT are both {port}: give them "
                          "different ports")
    if not port_is_free(port):
        raise PortProblem(
            f"port {port} ({stand_in.variable}) is taken: another program listens on "
            f"{HOST}:{port}. Choose another {stand_in.variable}, or unset it and a free "
            f"port is found (or set {stand_in.replaced_by} to use the real service)")


def preflight(env: Mapping[str, str]) -> None:
    """What ``make run`` can know before installing anything: PORT is free, and so is every
    stand-in port set on purpose."""
    app_port(env)
    for stand_in in _stand_ins_started(env).values():
        explicit = _explicit_port(env, stand_in)
        if explicit is not None:
            _check_explicit(stand_in, explicit, env)


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devservices.ports",
                                     description="Check and choose ports for `make run`.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("preflight", help="exit 1 if PORT (or a LOCAL_*_PORT set) is taken")
    commands.add_parser("app", help="print PORT, or exit 1 if it is taken")
    stand_in = commands.add_parser("stand-in", help="print the port a local stand-in uses")
    stand_in.add_argument("name", choices=sorted(STAND_INS))
    args = parser.parse_args(argv)
    env = os.environ if env is None else env
    try:
        if args.command == "preflight":
            preflight(env)
        elif args.command == "app":
            print(app_port(env))
        else:
            # The port, then the note when it is not the default (bin/run-server shows
            # it at once and again in its banner).
            port, note = stand_in_port(args.name, env)
            print(port)
            if note:
                print(note)
    except PortProblem as problem:
        print(f"{PREFIX}: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
