from __future__ import annotations

import pytest

import config
from config import Config, ConfigurationError


@pytest.fixture(autouse=True)
def instance_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    return tmp_path


def test_embedded_defaults_need_no_environment(instance_dir):
    settings = Config({})
    assert settings.SQLALCHEMY_DATABASE_URI == f"sqlite:///{instance_dir / 'bookwell.db'}"
    assert settings.REDIS_URL is None
    assert settings.RATELIMIT_STORAGE_URI == "memory://"
    assert settings.RATELIMIT_DEFAULT == ""  # only the routes that declare a limit
    assert len(settings.SECRET_KEY) > 40 and settings.SECRET_KEY != settings.JWT_SECRET_KEY
    assert settings.FAB_CREATE_DB is False and settings.FAB_UPDATE_PERMS is False


def test_development_secrets_survive_a_restart():
    assert Config({}).SECRET_KEY == Config({}).SECRET_KEY


def test_production_refuses_to_start_without_secrets():
    with pytest.raises(ConfigurationError) as error:
        Config({"BOOKWELL_ENV": "production", "DATABASE_URL": "postgresql://db/x"})
    assert "SECRET_KEY" in str(error.value) and "JWT_SECRET_KEY" in str(error.value)


def test_production_with_secrets_uses_them():
    settings = Config({"BOOKWELL_ENV": "production", "SECRET_KEY": "s" * 40,
                       "JWT_SECRET_KEY": "j" * 40, "DATABASE_URL": "postgres://u@db/bookwell",
                       "REDIS_URL": "redis://cache:6379/0"})
    assert settings.SECRET_KEY == "s" * 40
    assert settings.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@db/bookwell"
    assert settings.RATELIMIT_STORAGE_URI == "redis://cache:6379/0"
    assert settings.SESSION_COOKIE_SECURE is True


def test_an_app_wide_rate_limit_comes_from_the_environment():
    assert Config({"RATELIMIT_DEFAULT": "600 per minute"}).RATELIMIT_DEFAULT == "600 per minute"


def test_bad_integer_is_a_clear_error():
    with pytest.raises(ConfigurationError, match="HOLD_MINUTES"):
        Config({"HOLD_MINUTES": "soon"})


def test_production_refuses_a_key_that_is_not_googles():
    with pytest.raises(ConfigurationError, match="GOOGLE_MAPS_API_KEY"):
        Config({"BOOKWELL_ENV": "production", "SECRET_KEY": "s" * 40, "JWT_SECRET_KEY": "j" * 40,
                "DATABASE_URL": "postgresql://db/x", "GOOGLE_MAPS_API_KEY": "not-a-key"})
    assert Config({"GOOGLE_MAPS_TIMEOUT": "0.5"}).GOOGLE_MAPS_TIMEOUT == 0.5


def test_postgres_sessions_get_lock_timeout_and_ssd_planner_costs():
    settings = Config({"DATABASE_URL": "postgresql://u@db/bookwell",
                       "DB_LOCK_TIMEOUT_MS": "500", "DB_RANDOM_PAGE_COST": "2"})
    options = settings.SQLALCHEMY_ENGINE_OPTIONS["connect_args"]["options"]
    assert options == "-c lock_timeout=500 -c random_page_cost=2.0"
    assert "-c random_page_cost=1.1" in Config({"DATABASE_URL": "postgresql://u@db/b"}
                                             ).SQLALCHEMY_ENGINE_OPTIONS["connect_args"]["options"]


def test_a_planner_cost_that_is_not_a_number_is_refused():
    with pytest.raises(ConfigurationError):
        Config({"DATABASE_URL": "postgresql://u@db/bookwell", "DB_RANDOM_PAGE_COST": "fast"})


def test_an_app_given_a_postgres_url_gets_the_postgres_session_settings(tmp_path):
    from app import create_app

    app = create_app({"TESTING": True, "INSTANCE_DIR": str(tmp_path),
                      "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@db/bookwell",
                      "DB_LOCK_TIMEOUT_MS": 700})
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"] == \
        "-c lock_timeout=700 -c random_page_cost=1.1"


def test_max_content_length_is_1_mib_unless_set():
    assert Config({}).MAX_CONTENT_LENGTH == 1024 * 1024
    assert Config({"MAX_CONTENT_LENGTH": "100"}).MAX_CONTENT_LENGTH == 100
    with pytest.raises(ConfigurationError):
        Config({"MAX_CONTENT_LENGTH": "1MB"})


def test_links_in_messages_follow_the_port_make_run_serves():
    assert Config({}).PUBLIC_BASE_URL == "http://127.0.0.1:5000"
    assert Config({"PORT": "5900"}).PUBLIC_BASE_URL == "http://127.0.0.1:5900"
    # Set on purpose (a proxy, a public host name), it wins over PORT.
    assert Config({"PORT": "5900", "PUBLIC_BASE_URL": "https://book.example/"}
                  ).PUBLIC_BASE_URL == "https://book.example"
    with pytest.raises(ConfigurationError, match="PORT"):
        Config({"PORT": "fifty-nine hundred"})
