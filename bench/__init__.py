"""Benchmarks: seed a PostgreSQL database at scale, then time the app in-process and
through gunicorn. ``bench.common`` holds what every benchmark shares; each ``bench/<area>.py``
is a script (``.venv/bin/python bench/catalog.py --help``)."""
