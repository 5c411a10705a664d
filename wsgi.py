"""Entry point for gunicorn (`gunicorn wsgi:app`) and the `flask` command."""
from app import create_app
from app.cli import bookwell
from jobs import cli as job_commands

app = create_app()
job_commands.register(bookwell)  # `flask bookwell worker` / `scheduler`
