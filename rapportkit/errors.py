"""Exceptions raised by rapportkit.

Every error a user can cause subclasses :class:`RapportkitError` and the builtin
it means, and carries a message that says what to do.
"""

from __future__ import annotations

__all__ = [
    "RapportkitError",
    "RubricError",
    "ValidationError",
    "ReviewStateError",
    "StoreError",
    "ReadOnlyError",
    "NetworkFilesystemError",
    "SchemaVersionError",
    "ConflictError",
    "ImportRejected",
    "PrivacyFindings",
    "FileWriteError",
    "AccessError",
]


class RapportkitError(Exception):
    """Base class of every error rapportkit raises on purpose."""


class RubricError(RapportkitError, ValueError):
    """A rubric file is missing, unreadable or invalid."""

    def __init__(self, problems: list[str] | str, source: str = "rubric"):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.source = source
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source} is not a valid rubric ({len(self.problems)} problem(s)):\n{lines}")


class ValidationError(RapportkitError, ValueError):
    """A value given for a record (score, date, note, id) is not acceptable."""


class ReviewStateError(RapportkitError, ValueError):
    """A review cannot make the requested step from its current state."""


class StoreError(RapportkitError, RuntimeError):
    """The database cannot be opened or used as asked."""


class ReadOnlyError(StoreError, PermissionError):
    """A write was attempted on a read-only store."""


class NetworkFilesystemError(StoreError):
    """The database sits on a network filesystem where SQLite locking is unsafe."""


class SchemaVersionError(StoreError):
    """The database schema is newer than this version of rapportkit."""


class ConflictError(StoreError):
    """Someone saved the review since it was opened; reload it before saving again.

    ``saved_by`` and ``saved_at`` say who saved it last and when (UTC, ISO 8601);
    ``version`` is the version the database holds now.
    """

    def __init__(self, message: str, *, saved_by: str, saved_at: str, version: int):
        self.saved_by, self.saved_at, self.version = saved_by, saved_at, version
        super().__init__(message)


class ImportRejected(RapportkitError, ValueError):
    """An import file was rejected whole; ``problems`` names every bad row and column."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = list(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = f"\n  … and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(
            f"{source} was not imported; nothing was changed. Fix these and import again:\n{shown}{more}"
        )


class PrivacyFindings(RapportkitError, ValueError):
    """Free text looks like it identifies someone; edit it or confirm it is not about a client."""

    def __init__(self, field: str, findings: list, places: list | None = None):
        self.field = field
        self.findings = list(findings)
        #: (field, finding) pairs when the findings come from several fields
        self.places = list(places) if places is not None else [(field, f) for f in self.findings]
        kinds = ", ".join(sorted({f.kind for f in self.findings}))
        super().__init__(
            f"{field} may identify someone ({kinds}). Edit the text, or confirm it is not about a client."
        )


class FileWriteError(RapportkitError, OSError):
    """A file (an export, a report, a backup) could not be written: the disk is full, the
    folder is read-only, … Nothing was left behind: no partial file, no temporary one."""


class AccessError(StoreError, PermissionError):
    """The database refused: the connected person's role may not see or do this."""
