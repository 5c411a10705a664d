"""Jobs run inside an app context: the worker's (built once) or the caller's (inline)."""
from __future__ import annotations

import functools

from flask import has_app_context


def with_app_context(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if has_app_context():
            return func(*args, **kwargs)
        from app import create_app

        with create_app().app_context():
            return func(*args, **kwargs)

    return wrapper
