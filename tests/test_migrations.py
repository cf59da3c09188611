"""The committed migrations build exactly the schema the models describe.

``flask --app wsgi db upgrade`` runs for real (a subprocess) on an empty
database; then Alembic's autogenerate comparison must find nothing to add,
drop or alter, on PostgreSQL and on SQLite. Downgrading to base and upgrading
again must work too.
"""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

import app.models  # noqa: F401  (registers every table on db.metadata)
from app import db
from tests.servers import ROOT, downgrade_database, postgres_database, upgrade_database

pytestmark = pytest.mark.server


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_database(request, tmp_path):
    if request.param == "postgresql":
        with postgres_database() as url:
            yield url
    else:
        yield "sqlite:///" + str(tmp_path / "migrations.sqlite3")


def head_revision():
    config = Config(str(ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def schema_state(url):
    """``(current revision, differences between the database and the models, tables)``."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            # The options Flask-Migrate gives autogenerate in create_app.
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "render_as_batch": True}
            )
            differences = compare_metadata(context, db.metadata)
            tables = set(sa.inspect(connection).get_table_names())
            return context.get_current_revision(), differences, tables
    finally:
        engine.dispose()


def test_upgrade_matches_the_models_and_downgrades(empty_database):
    model_tables = set(db.metadata.tables)
    head = head_revision()
    assert head is not None

    upgrade_database(empty_database)
    revision, differences, tables = schema_state(empty_database)
    assert revision == head
    assert differences == [], "the migrations and the models differ; run flask db migrate"
    assert tables == model_tables | {"alembic_version"}

    downgrade_database(empty_database, "base")
    revision, _, tables = schema_state(empty_database)
    assert revision is None
    assert tables <= {"alembic_version", "sqlite_sequence"}

    upgrade_database(empty_database)
    revision, differences, tables = schema_state(empty_database)
    assert revision == head
    assert differences == []
    assert tables == model_tables | {"alembic_version"}


def test_upgrade_is_idempotent(empty_database):
    upgrade_database(empty_database)
    result = upgrade_database(empty_database)
    assert result.returncode == 0
    revision, differences, _ = schema_state(empty_database)
    assert revision == head_revision()
    assert differences == []
