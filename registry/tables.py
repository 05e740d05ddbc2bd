"""The ledger database's tables, in one place so one ``create_all`` makes every one of them.

- ``retrain_promotions``: every intended and applied move of ``champion`` (the ledger proper);
- ``retrain_run_leases``: which process is retraining a model now, until when;
- ``retrain_blocks``: versions a person took away (rollback, rejection), by fingerprint;
- ``retrain_holds``: models whose automatic promotions a person froze;
- ``retrain_releases``: quarantined batches a person let back in, and why;
- ``retrain_source_marks``: how far a SQL source has been taken (the watermark), per model.

They live in the ledger's database (SQLite or PostgreSQL) because every entry point (CLI,
deployment, UI flow, CI) already reaches it, and its per-model lock orders their writes.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

promotions = sa.Table(
    "retrain_promotions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model", sa.String(256), nullable=False, index=True),
    sa.Column("from_version", sa.String(32)),
    sa.Column("to_version", sa.String(32), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("actor", sa.String(256)),
    sa.Column("run_id", sa.String(64)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("applied_at", sa.DateTime(timezone=True)),
    sa.Column("note", sa.Text),
    sa.Column("metrics", sa.Text),
)

run_leases = sa.Table(
    "retrain_run_leases",
    metadata,
    sa.Column("model", sa.String(256), primary_key=True),
    sa.Column("token", sa.String(64), nullable=False),
    sa.Column("owner", sa.String(256), nullable=False),
    sa.Column("host", sa.String(256), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("run_id", sa.String(64)),
    sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

blocks = sa.Table(
    "retrain_blocks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model", sa.String(256), nullable=False, index=True),
    sa.Column("version", sa.String(32), nullable=False),
    sa.Column("fingerprint", sa.String(64)),
    sa.Column("reason", sa.Text),
    sa.Column("actor", sa.String(256)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("lifted_at", sa.DateTime(timezone=True)),
    sa.Column("lifted_by", sa.String(256)),
)

holds = sa.Table(
    "retrain_holds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model", sa.String(256), nullable=False, index=True),
    sa.Column("reason", sa.Text),
    sa.Column("actor", sa.String(256)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("released_at", sa.DateTime(timezone=True)),
    sa.Column("released_by", sa.String(256)),
)

releases = sa.Table(
    "retrain_releases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model", sa.String(256), nullable=False, index=True),
    sa.Column("batch", sa.Text, nullable=False),
    sa.Column("data_hash", sa.String(64), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("actor", sa.String(256)),
    sa.Column("widened", sa.Boolean, nullable=False),
    sa.Column("suite_version", sa.Integer),
    sa.Column("failures", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

source_marks = sa.Table(
    "retrain_source_marks",
    metadata,
    sa.Column("model", sa.String(256), primary_key=True),
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("taken_until", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
