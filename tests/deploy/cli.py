"""The commands the container image's roles call, looked up in the real CLI."""
from __future__ import annotations

import click


def bookwell_commands() -> dict[str, click.Command]:
    """``flask bookwell <name>``, with the job commands ``wsgi.py`` adds to the group."""
    from app.cli import bookwell
    from jobs import cli as job_commands

    job_commands.register(bookwell)  # what wsgi.py does; adding a command twice is harmless
    return dict(bookwell.commands)


def db_commands() -> dict[str, click.Command]:
    """``flask db <name>`` (Flask-Migrate)."""
    from flask_migrate.cli import db

    return dict(db.commands)


def options(command: click.Command) -> set[str]:
    """Every option spelling of a command: ``--queues``, ``--fork``, ``--no-fork``..."""
    return {opt for param in command.params
            for opt in (*param.opts, *getattr(param, "secondary_opts", ()))}
