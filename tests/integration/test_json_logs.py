"""LOG_FORMAT=json: one JSON object per line, each with the request id; the request's
summary line with route, status and duration; and the same request id in the lines of
the jobs the request handed over (carried in the job's meta)."""
from __future__ import annotations

import io
import json
import logging

import pytest
from rq import SimpleWorker

from app import job_registry, jobqueue
from app.redis import redis_client
from config import Config, ConfigurationError
from tests.helpers import bearer, token_for
from tests.views.console import second_app

JOB_LOGGER = "bookwell.tests.job"


def log_from_a_job() -> None:
    """The body of the test job (importable, so that RQ runs it by name)."""
    logging.getLogger(JOB_LOGGER).info("job ran")


@pytest.fixture
def json_app(app, tmp_dir, cache_on):
    """An app logging JSON, its log lines captured: the lines it wrote, parsed."""
    root = logging.getLogger()
    level_before = root.level
    other = second_app(app, tmp_dir, LOG_FORMAT="json", LOG_LEVEL="INFO")
    # Jobs queued, not run inline: on Redis as configured, or on the fakeredis stand-in.
    other.config["REDIS_URL"] = app.config["REDIS_URL"]
    [handler] = [h for h in root.handlers if getattr(h, "_bookwell", False)]
    stream = io.StringIO()
    handler.setStream(stream)
    other.log_lines = lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    yield other
    handler.setStream(io.StringIO())
    root.setLevel(level_before)


def test_each_request_ends_with_one_json_line_naming_its_route(json_app, build):
    offering = build.offering(build.provider())
    client = json_app.test_client()

    response = client.get(f"/api/v1/offerings/{offering}", headers={"X-Request-ID": "walk-42"})

    assert response.status_code == 200
    [line] = [line for line in json_app.log_lines() if line["message"] == "request"]
    assert line["request_id"] == "walk-42"
    assert line["route"] == "/api/v1/offerings/<int:offering_id>"  # the rule, not the path
    assert (line["method"], line["status"]) == ("GET", 200)
    assert line["duration_ms"] >= 0
    assert line["user_id"] is None  # a public page: nobody signed in
    assert {"time", "level", "logger", "job_id", "provider_id"} <= set(line)
    assert line["level"] == "INFO" and line["logger"] == "bookwell.request"


def test_a_staff_request_names_its_provider(json_app, build):
    provider = build.provider()
    staff = build.staff(provider)
    client = json_app.test_client()

    client.get("/api/v1/provider/bookings", headers=bearer(token_for(staff)))

    [line] = [line for line in json_app.log_lines() if line["message"] == "request"]
    assert (line["user_id"], line["provider_id"]) == (staff, provider)
    assert line["status"] == 200


def test_the_request_id_travels_into_the_jobs_it_causes(json_app, monkeypatch):
    monkeypatch.setitem(job_registry.JOBS, "tests.log_from_a_job",
                        job_registry.Job("tests.log_from_a_job", log_from_a_job, "default"))
    with json_app.test_request_context(headers={"X-Request-ID": "walk-43"}):
        json_app.preprocess_request()
        job = jobqueue.enqueue("tests.log_from_a_job")
    assert job.meta["request_id"] == "walk-43"

    with json_app.app_context():
        SimpleWorker([jobqueue.get_queue("default")], connection=redis_client()).work(
            burst=True)

    [line] = [line for line in json_app.log_lines() if line["message"] == "job ran"]
    assert (line["request_id"], line["job_id"]) == ("walk-43", job.id)
    assert line["logger"] == JOB_LOGGER


def test_an_unknown_log_format_is_refused():
    with pytest.raises(ConfigurationError, match="LOG_FORMAT"):
        Config({"LOG_FORMAT": "yaml"})
    assert Config({"LOG_FORMAT": "JSON"}).LOG_FORMAT == "json"
    assert Config({}).LOG_FORMAT == "plain"
