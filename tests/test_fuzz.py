"""Property-based fuzzing of the REST API against its own OpenAPI document.

Schemathesis reads ``/api/swagger.json`` from the app itself and, for every
operation in it, generates requests that follow the document (positive mode)
and requests that break it (negative mode), sent with a valid token. Every
answer must not be a server error, must have a status code the document lists
for that operation, and must match the schema documented for that status.

The database (SQLite, or PostgreSQL under ``TEST_DATABASE_URL``) is seeded
with users, sprints and tasks, and about half the cases of an item operation
use a real id or username, so they reach existing objects as well as missing
ones.

``FUZZ_EXAMPLES`` sets the examples per operation and mode (default 40);
``FUZZ_SEED`` replays a run (the seed is printed with the case counts).
"""

import os
import random
import time
from collections import Counter
from datetime import date, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance

from app import db
from app.models import Token, User

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES") or 40)
SEED = int(os.environ.get("FUZZ_SEED") or random.randrange(2**32))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
PATH_PARAMETERS = ("sprint_id", "task_id", "username")


def _seed(make_user, make_token, make_sprint, make_task):
    """Users (one inactive), sprints (one ended), tasks in every status and in the backlog."""
    today = date.today()
    fuzzer = make_user("fuzzer", password="fuzzing password", full_name="Fuzz Tester")
    make_user("bob", full_name="Bob Builder")
    make_user("Carol.O'Neil", full_name="Carol")
    make_user("inactive", is_active=False)
    sprints = [make_sprint(name=f"Sprint {n}", description="Seeded") for n in range(3)]
    sprints.append(make_sprint(end=today - timedelta(days=3), name="Ended"))
    tasks = [
        make_task("Backlog", description="in the backlog"),
        make_task("Assigned backlog", assigned="bob"),
        make_task("Not started", sprint_id=sprints[0], order=2),
        make_task("In progress", sprint_id=sprints[0], status=2, started=today, assigned="fuzzer"),
        make_task("Testing", sprint_id=sprints[1], status=3, started=today, due=today + timedelta(days=2)),
        make_task("Done", sprint_id=sprints[1], status=4, started=today, completed=today),
        make_task("In an ended sprint", sprint_id=sprints[3], status=4, started=today, completed=today),
    ]
    real = {"sprint_id": sprints, "task_id": tasks, "username": ["fuzzer", "bob", "Carol.O'Neil", "inactive"]}
    return fuzzer, make_token(fuzzer), real


def _fresh_token(app, user):
    with app.app_context():
        token, value = Token.issue(db.session.get(User, user.id), 3600)
        db.session.add(token)
        db.session.commit()
        return value


def _with_real_ids(strategy, operation, real):
    """Cases of ``strategy``, about half of them with real path parameters."""
    names = [name for name in PATH_PARAMETERS if "{" + name + "}" in operation.path]
    if not names:
        return strategy
    replacement = st.none() | st.fixed_dictionaries({name: st.sampled_from(real[name]) for name in names})

    def apply(pair):
        case, values = pair
        if values is not None:
            case.path_parameters = {**(case.path_parameters or {}), **values}
        return case

    return st.tuples(strategy, replacement).map(apply)


def _fuzz(operation, mode, real, send):
    """Run ``send`` on MAX_EXAMPLES generated cases of ``operation``; Hypothesis shrinks a failure."""

    @seed(SEED)
    @settings(
        max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=_with_real_ids(operation.as_strategy(generation_mode=mode), operation, real))
    def run(case):
        send(case)

    run()


@pytest.mark.slow
def test_every_operation_keeps_its_documented_promises(
    app, make_user, make_token, make_sprint, make_task, capsys
):
    fuzzer, token, real = _seed(make_user, make_token, make_sprint, make_task)
    schema = schemathesis.openapi.from_wsgi("/api/swagger.json", app)
    # Deletions last, so that the other operations still find the seeded objects.
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()), key=lambda op: op.method.upper() == "DELETE"
    )
    cases, statuses, failures, unbreakable = Counter(), Counter(), {}, []
    started = time.monotonic()

    for operation in operations:
        for mode in GenerationMode:
            label = f"{operation.label} ({mode.value})"

            def send(case, label=label):
                bearer = token
                if case.method.upper() == "DELETE" and case.path == "/token":
                    bearer = _fresh_token(app, fuzzer)  # revoked by this case: the others keep theirs
                headers = {"Authorization": f"Token {bearer}"}
                response = case.call(headers=headers)
                cases[label] += 1
                statuses[response.status_code] += 1
                case.validate_response(response, checks=CHECKS, headers=headers)

            try:
                _fuzz(operation, mode, real, send)
            except Unsatisfiable:
                # Nothing in this operation can be made invalid (no body, no typed parameter).
                assert mode is GenerationMode.NEGATIVE, label
                unbreakable.append(label)
            except (AssertionError, BaseExceptionGroup) as error:  # a failed check, shrunk
                failures[label] = error

    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(
            f"\nfuzz: {sum(cases.values())} cases ({MAX_EXAMPLES} examples per operation and mode), "
            f"{len(operations)} operations, {elapsed:.1f} s, seed {SEED} (FUZZ_SEED={SEED} replays it)"
        )
        print("fuzz: answers " + ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items())))
        if unbreakable:
            print("fuzz: nothing to make invalid in " + ", ".join(unbreakable))
    assert not failures, "\n\n".join(f"{label}:\n{error}" for label, error in failures.items())
    # Every operation was tried in both modes, and writes went through on real objects.
    assert len(cases) + len(unbreakable) == 2 * len(operations), sorted(cases)
    assert statuses[200] and statuses[201] and statuses[204], statuses
