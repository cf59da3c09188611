"""Settings from the environment: valid values are read, a malformed one stops the
process at once with one line naming the variable and what it must be (no traceback),
and with exit status 3, on which gunicorn stops instead of starting worker after worker.

Each case imports ``config`` (or runs the ``flask`` command) in a fresh interpreter,
since the settings are read when the module is imported.
"""

import pytest

from tests.support.servers import app_environment, flask_command, run_python_code

SECONDS = "at most 3153600000 (a century)"


def import_config(env, show="TOKEN_TTL"):
    """``import config`` with ``env`` set; prints ``repr(Config.<show>)``."""
    return run_python_code(
        f"import config; print(repr(config.Config.{show}))", app_environment("sqlite://", env=env)
    )


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("TOKEN_TTL", "abc", f"a whole number of seconds, at least 1 and {SECONDS}"),
        ("TOKEN_TTL", "1.5", f"a whole number of seconds, at least 1 and {SECONDS}"),
        ("TOKEN_TTL", "0", f"a whole number of seconds, at least 1 and {SECONDS}"),
        ("TOKEN_TTL", "9" * 30, f"a whole number of seconds, at least 1 and {SECONDS}"),
        ("EVENT_RETENTION", "a week", f"a whole number of seconds, at least 0 and {SECONDS}"),
        ("HSTS_SECONDS", "-1", f"a whole number of seconds, at least 0 and {SECONDS}"),
        ("EVENT_POLL_INTERVAL", "0", f"a number of seconds, above 0 and {SECONDS}"),
        ("HOUSEKEEPING_INTERVAL", "nan", f"a number of seconds, above 0 and {SECONDS}"),
        ("REQUEST_BODY_TIMEOUT", "inf", f"a number of seconds, above 0 and {SECONDS}"),
        ("SOCKET_CONNECT_TIMEOUT", "10s", f"a number of seconds, above 0 and {SECONDS}"),
        ("DATABASE_PING_AFTER_IDLE", "-0.5", f"a number of seconds, at least 0 and {SECONDS}"),
        ("PASSWORD_HASH_CONCURRENCY", "0", "a whole number, at least 1"),
        ("TRUSTED_PROXIES", "one", "a whole number, at least 0"),
        ("LOGIN_FAILURES_PER_USERNAME", "lots", 'a rate limit such as "10 per 5 minutes"'),
        ("LOGIN_FAILURES_PER_ADDRESS", "-1 per minute", 'a rate limit such as "10 per 5 minutes"'),
    ],
)
def test_a_malformed_setting_stops_with_one_line_naming_it(name, value, rule):
    result = import_config({name: value})
    assert (result.returncode, result.stdout) == (3, "")
    assert result.stderr == f"Error: {name} must be {rule}, not {value!r}.\n"


@pytest.mark.parametrize(
    ("name", "value", "read"),
    [
        ("TOKEN_TTL", "60", 60),
        ("TOKEN_TTL", " 3600 ", 3600),
        ("TOKEN_TTL", "", 604800),
        ("TOKEN_TTL", "3153600000", 3153600000),
        ("EVENT_RETENTION", "0", 0),
        ("HSTS_SECONDS", "0", 0),
        ("EVENT_POLL_INTERVAL", "0.05", 0.05),
        ("HOUSEKEEPING_INTERVAL", "1", 1.0),
        ("HOUSEKEEPING_INTERVAL", "", 15.0),
        ("DATABASE_PING_AFTER_IDLE", "0", 0.0),
        ("PASSWORD_HASH_CONCURRENCY", "4", 4),
        ("TRUSTED_PROXIES", "1", 1),
        ("LOGIN_FAILURES_PER_ADDRESS", "5/minute", "5/minute"),
        ("LOGIN_FAILURES_PER_USERNAME", "", "10 per 5 minutes"),
    ],
)
def test_valid_settings_are_read(name, value, read):
    result = import_config({name: value}, show=name)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{read!r}\n"


@pytest.mark.slow
def test_a_flask_command_with_a_malformed_setting_says_why_without_a_traceback(tmp_path):
    database = tmp_path / "unused.sqlite3"
    result = flask_command(
        "create-user",
        "ann",
        "--password",
        "pw",
        database_url=f"sqlite:///{database}",
        env={"TOKEN_TTL": "abc"},
        check=False,
    )
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"Error: TOKEN_TTL must be a whole number of seconds, at least 1 and {SECONDS}, not 'abc'."
    )
    assert not database.exists()
