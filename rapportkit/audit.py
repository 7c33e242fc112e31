"""The append-only, hash-chained audit log.

Every change to a record is one row: who, when, what (entity and id), the record
before and after (JSON), and why. Each row's ``hash`` is the SHA-256 of its content
and the previous row's hash, so editing, reordering or deleting a past row breaks the
chain from that row on, and :func:`verify` says where. The table also refuses UPDATE
and DELETE through triggers; the chain catches what bypasses them (another tool, a
dropped trigger, an edited file).

The log is written inside the same transaction as the change it records.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

__all__ = ["GENESIS", "AuditEntry", "append", "verify", "entries", "canonical"]

GENESIS = "0" * 64


def canonical(value: Any) -> str | None:
    """Stable JSON for hashing and storing (sorted keys, no spaces)."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    action: str
    entity: str
    entity_id: str
    before: str | None
    after: str | None
    reason: str | None
    prev_hash: str
    hash: str

    def digest(self) -> str:
        body = [self.seq, self.at, self.actor, self.action, self.entity, self.entity_id,
                self.before, self.after, self.reason, self.prev_hash]
        return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


_COLUMNS = "seq, at, actor, action, entity, entity_id, before, after, reason, prev_hash, hash"


def append(
    conn,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
) -> AuditEntry | None:
    """Add one entry; call inside the write transaction that makes the change.

    On a team database (PostgreSQL) the database sets the sequence, the time, the actor
    (the connection's role) and the chain itself, whatever the client sends
    (``rk_audit_chain``); ``actor`` is then ignored."""
    if getattr(conn, "dialect", "sqlite") == "postgresql":
        # no RETURNING: the log is not readable by the people who write to it
        conn.execute(
            "INSERT INTO audit (action, entity, entity_id, before, after, reason) VALUES (?, ?, ?, ?, ?, ?)",
            (action, entity, entity_id, canonical(before), canonical(after), reason),
        )
        return None
    last = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")
    draft = AuditEntry(seq, at, actor, action, entity, entity_id, canonical(before),
                       canonical(after), reason, prev, "")
    entry = AuditEntry(**{**draft.__dict__, "hash": draft.digest()})
    conn.execute(
        f"INSERT INTO audit ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        tuple(entry.__dict__.values()),
    )
    return entry


def entries(conn: sqlite3.Connection, entity: str | None = None, entity_id: str | None = None) -> list[AuditEntry]:
    """The log in order, optionally for one entity (and id)."""
    sql, args = f"SELECT {_COLUMNS} FROM audit", []
    if entity is not None:
        sql += " WHERE entity = ?"
        args.append(entity)
        if entity_id is not None:
            sql += " AND entity_id = ?"
            args.append(entity_id)
    return [AuditEntry(*row) for row in conn.execute(sql + " ORDER BY seq", args)]


def verify(conn: sqlite3.Connection) -> list[str]:
    """Check the whole chain; return one sentence per problem (empty when intact)."""
    problems: list[str] = []
    prev, expected = GENESIS, 1
    for row in conn.execute(f"SELECT {_COLUMNS} FROM audit ORDER BY seq"):
        entry = AuditEntry(*row)
        if entry.seq != expected:
            problems.append(f"audit entries {expected}–{entry.seq - 1} are missing (deleted?)")
        if entry.prev_hash != prev:
            problems.append(f"audit entry {entry.seq} does not follow the entry before it (chain broken)")
        if entry.digest() != entry.hash:
            problems.append(f"audit entry {entry.seq} ({entry.action} {entry.entity_id}) was altered after it was written")
        prev, expected = entry.hash, entry.seq + 1
    return problems
