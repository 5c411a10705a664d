"""Entry point for gunicorn (`gunicorn wsgi:app`) and the `flask` command."""
import gc

from app import create_app
from app.cli import bookwell
from jobs import cli as job_commands

app = create_app()
job_commands.register(bookwell)  # `flask bookwell worker` / `scheduler`
# The 300,000-odd objects built at start-up live as long as the process: frozen, the
# collector's full passes skip them (a pause of 2-4 ms instead of about 130 ms).
gc.freeze()
