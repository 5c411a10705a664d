"""Deployment files are checked without the app: no database, no Redis.

The suite-wide ``clean_state`` empties the database after every test and so builds the
app first; here it does nothing (a test that needs the app asks for ``app`` itself).
"""
import pytest


@pytest.fixture(autouse=True)
def clean_state():
    yield
