"""Alembic environment: migrates the database whose URL :func:`rackforge.serve.db.upgrade`
put in ``config.attributes["url"]`` (else ``sqlalchemy.url``, else ``$RACKFORGE_DB``)."""

from __future__ import annotations

from alembic import context

from rackforge.serve import db, models

config = context.config
target_metadata = models.Base.metadata


def migration_url() -> str:
    """The database to migrate."""
    return db.driver_url(config.attributes.get("url")
                         or config.get_main_option("sqlalchemy.url")
                         or db.database_url(None))


def run_migrations_offline() -> None:
    """Write the migration SQL (``alembic upgrade --sql``) without connecting."""
    url = migration_url()
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=db.is_sqlite(url))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Connect with :func:`rackforge.serve.db.make_engine` and migrate in one transaction
    (SQLite alters tables in batch mode: copy and move)."""
    url = migration_url()
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, target_metadata=target_metadata,
                              render_as_batch=db.is_sqlite(url))
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
