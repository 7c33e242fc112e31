"""The access matrix: who may do what on a team's PostgreSQL store, checked with raw SQL.

Every test connects as a *real* database role (a person's login, member of one of the
group roles rk_specialist, rk_supervisor, rk_lead, rk_admin) with plain psycopg, never
through rapportkit, so what it shows is what PostgreSQL itself enforces: GRANTs,
row-level security (FORCE ROW LEVEL SECURITY) and triggers.

The set-up (once per module, in a template database) is made as it would be in use:

- the installer (a superuser) opens ``Store(url)``, which creates the schema, and saves the
  people, each with a login (``rk_grant_login`` gives the login its role);
- the administrator assigns the specialists;
- the reviews of ``sp-1`` with ``sv-1`` are made by those two people through their own
  ``Store("postgresql:///DB?host=SOCKET&user=LOGIN")``: a draft both have rated blind
  (``rv-draft``), a revealed one, an agreed one and a signed one (each party signs from
  their own Store). A step the real roles cannot take is done by the installer instead
  and recorded; ``test_review_flow_through_real_roles`` then fails and names it;
- a few more records (older signed reviews for the lead's aggregates, blank drafts as
  write targets, scratch drafts) are made by the installer.

The policy is :data:`MATRIX` below: actor × table/view × SELECT/INSERT/UPDATE/DELETE.
Each cell runs in its own transaction, always rolled back, on a clone of the template;
tests that must commit get a clone of their own. No test depends on another.

Outcomes (kept apart on purpose):

==========  =====================================================================
ALL         SELECT returns every row of the table (as the superuser sees it)
MINE        SELECT returns exactly the rows of this person's own records (see
            :data:`MINE_SQL`: the specification, written independently of the policies),
            blind ratings of drafts excluded
DENIED      refused by privileges: ``permission denied`` (SQLSTATE 42501, no GRANT)
RLS         INSERT refused by a row-level security policy (42501, "violates row-level
            security policy")
ZERO        UPDATE/DELETE runs but touches no row: row-level security hides the target
OK          the write succeeds and touches at least one row
VIEW        a write to an aggregate view is refused (the view is read-only or not granted)
REFUSED     refused by one of the schema's triggers (SQLSTATE RK001-RK004) before any
            policy is asked (a BEFORE trigger that cannot see the row says so)
NO          an INSERT refused for that row, by a policy (RLS) or a trigger (REFUSED):
            either is a refusal by the database; neither is a missing GRANT
==========  =====================================================================

Hooks for ``tools/policy_mutations.py`` (all optional):

``RAPPORTKIT_TEST_MUTATION``
    SQL the superuser runs in every database clone after set-up (e.g. ``DROP POLICY x ON t``).
``RAPPORTKIT_TEST_SCHEMA_PATCH``
    SQL the superuser runs right after the schema is created, before any person or
    review exists (to try a fix of the schema).
``RAPPORTKIT_TEST_PG_HOST`` / ``RAPPORTKIT_TEST_ACCESS_TEMPLATE``
    the socket folder of a running cluster (superuser ``postgres``) to use instead of the
    session's ``pg_cluster``, and the name of a database in it already set up by
    :func:`build_world` (then the set-up is not repeated).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

psycopg = pytest.importorskip("psycopg")

from conftest import all_scores, build_review, goal, new_pg_database  # noqa: E402
from rapportkit import model  # noqa: E402
from rapportkit.model import Goal, GoalUpdate, Person, PersonRole, Rating, RaterRole  # noqa: E402
from rapportkit.pgcluster import Cluster  # noqa: E402
from rapportkit.rubric import default_rubric  # noqa: E402
from rapportkit.store import Store  # noqa: E402

# ---------------------------------------------------------------------------- the team

#: actor -> (login, person id, kind)
ACTORS = {
    "sp_own": ("sp_one", "sp-1", "specialist"),    # the specialist of the reviews under test
    "sp_other": ("sp_two", "sp-2", "specialist"),  # another specialist (same supervisor)
    "sv_own": ("sv_one", "sv-1", "supervisor"),    # the supervisor of the reviews under test
    "sv_other": ("sv_two", "sv-2", "supervisor"),  # another supervisor (of sp-3)
    "lead": ("ld_one", "ld-1", "lead"),
    "admin": ("ad_one", "ad-1", "admin"),
}
PEOPLE = [
    Person("sv-1", "Wren Hollowbrook", PersonRole.SUPERVISOR, login="sv_one"),
    Person("sv-2", "Perrin Ashgrove", PersonRole.SUPERVISOR, login="sv_two"),
    Person("sp-1", "Tansy Millwheel", PersonRole.SPECIALIST, supervisor_id="sv-1", login="sp_one"),
    Person("sp-2", "Corvin Bracken", PersonRole.SPECIALIST, supervisor_id="sv-1", login="sp_two"),
    Person("sp-3", "Odile Fernsby", PersonRole.SPECIALIST, supervisor_id="sv-2", login="sp_three"),
    Person("ld-1", "Marlo Quince", PersonRole.LEAD, login="ld_one"),
    Person("ad-1", "Isolde Brackwater", PersonRole.ADMIN, login="ad_one"),
]
ASSIGNMENTS = [("sv-1", "sp-1"), ("sv-1", "sp-2"), ("sv-2", "sp-3")]
ASSIGNED_FROM = (dt.date.today() - dt.timedelta(days=30)).isoformat()

#: free text planted in the records: nobody without the right may ever read it
SELF_NOTE = "SECRET-self-note-empathy"
SUP_NOTE = "SECRET-supervisor-note-empathy"
GOAL_TEXT = "SECRET goal text"
GOAL_ACTIONS = "SECRET goal actions"
UPDATE_NOTE = "SECRET goal update note"
RATIONALE = "SECRET rationale after talking it through"
SECRETS = (SELF_NOTE, SUP_NOTE, GOAL_TEXT, GOAL_ACTIONS, UPDATE_NOTE, RATIONALE)

FLOW_REVIEWS = ("rv-draft", "rv-revealed", "rv-agreed", "rv-signed")  # made by the real roles

# ---------------------------------------------------------------------------- the policy

ALL, MINE, DENIED, RLS, ZERO, OK, VIEW, REFUSED = "ALL", "MINE", "DENIED", "RLS", "ZERO", "OK", "VIEW", "REFUSED"
NO = "NO"  # INSERT refused for this row: by a policy (RLS) or by a trigger first (REFUSED)
OPS = ("SELECT", "INSERT", "UPDATE", "DELETE")
ORDER = ("sp_own", "sp_other", "sv_own", "sv_other", "lead", "admin")


def _row(*cells: str) -> dict[str, str]:
    """One actor's outcomes for SELECT, INSERT, UPDATE, DELETE."""
    return dict(zip(OPS, cells, strict=True))


_NOTHING = _row(DENIED, DENIED, DENIED, DENIED)
_VIEW_FOR_LEAD = {a: _row(ALL if a == "lead" else DENIED, VIEW, VIEW, VIEW) for a in ORDER}

#: table/view -> actor -> op -> outcome. The write statements are in STATEMENTS: each
#: targets the records of sp-1 with sv-1 (a party's own), so "OK" for the parties and
#: "RLS"/"ZERO" for the others is the rule "your own records, nobody else's".
MATRIX: dict[str, dict[str, dict[str, str]]] = {
    #                  SELECT  INSERT  UPDATE  DELETE
    "people": {
        "sp_own":   _row(MINE, DENIED, DENIED, DENIED),
        "sp_other": _row(MINE, DENIED, DENIED, DENIED),
        "sv_own":   _row(MINE, DENIED, DENIED, DENIED),
        "sv_other": _row(MINE, DENIED, DENIED, DENIED),
        "lead":     _row(ALL, DENIED, DENIED, DENIED),
        "admin":    _row(ALL, OK, OK, DENIED),
    },
    "assignments": {
        "sp_own":   _row(MINE, DENIED, DENIED, DENIED),
        "sp_other": _row(MINE, DENIED, DENIED, DENIED),
        "sv_own":   _row(MINE, DENIED, DENIED, DENIED),
        "sv_other": _row(MINE, DENIED, DENIED, DENIED),
        "lead":     _NOTHING,
        "admin":    _row(ALL, OK, OK, DENIED),
    },
    "sessions": {
        "sp_own":   _row(MINE, OK, OK, DENIED),
        "sp_other": _row(MINE, NO, ZERO, DENIED),
        "sv_own":   _row(MINE, OK, OK, DENIED),
        "sv_other": _row(MINE, NO, ZERO, DENIED),
        "lead":     _NOTHING,
        "admin":    _NOTHING,
    },
    "reviews": {
        "sp_own":   _row(MINE, OK, OK, DENIED),
        "sp_other": _row(MINE, NO, ZERO, DENIED),
        "sv_own":   _row(MINE, OK, OK, DENIED),  # nobody deletes a review
        "sv_other": _row(MINE, NO, ZERO, DENIED),
        "lead":     _NOTHING,
        "admin":    _NOTHING,
    },
    "ratings": {
        "sp_own":   _row(MINE, OK, OK, OK),
        "sp_other": _row(MINE, NO, ZERO, ZERO),
        "sv_own":   _row(MINE, OK, OK, OK),
        "sv_other": _row(MINE, NO, ZERO, ZERO),
        "lead":     _NOTHING,
        "admin":    _NOTHING,
    },
    "scores": {
        "sp_own":   _row(MINE, OK, OK, OK),
        "sp_other": _row(MINE, NO, ZERO, ZERO),
        "sv_own":   _row(MINE, OK, OK, OK),
        "sv_other": _row(MINE, NO, ZERO, ZERO),
        "lead":     _NOTHING,
        "admin":    _NOTHING,
    },
    **{t: {
        "sp_own":   _row(MINE, DENIED, DENIED, DENIED),
        "sp_other": _row(MINE, DENIED, DENIED, DENIED),
        "sv_own":   _row(MINE, OK, OK, OK),
        "sv_other": _row(MINE, NO, ZERO, ZERO),
        "lead":     _NOTHING,
        "admin":    _NOTHING,
    } for t in ("traps", "goals", "goal_updates")},
    "drafts": {  # everyone keeps their own scratch drafts; the target is sp_one's
        "sp_own":   _row(MINE, OK, OK, OK),
        "sp_other": _row(MINE, OK, ZERO, ZERO),
        "sv_own":   _row(MINE, OK, ZERO, ZERO),
        "sv_other": _row(MINE, OK, ZERO, ZERO),
        "lead":     _row(MINE, OK, ZERO, ZERO),
        "admin":    _row(MINE, OK, ZERO, ZERO),
    },
    **{t: {
        "sp_own":   _row(ALL, OK, DENIED, DENIED),
        "sp_other": _row(ALL, OK, DENIED, DENIED),
        "sv_own":   _row(ALL, OK, DENIED, DENIED),
        "sv_other": _row(ALL, OK, DENIED, DENIED),
        "lead":     _row(ALL, DENIED, DENIED, DENIED),
        "admin":    _row(ALL, DENIED, DENIED, DENIED),
    } for t in ("rubrics", "rubric_practices")},
    "audit": {  # append only, read by nobody but the system
        "sp_own":   _row(DENIED, OK, DENIED, DENIED),
        "sp_other": _row(DENIED, OK, DENIED, DENIED),
        "sv_own":   _row(DENIED, OK, DENIED, DENIED),
        "sv_other": _row(DENIED, OK, DENIED, DENIED),
        "lead":     _NOTHING,
        "admin":    _row(DENIED, OK, DENIED, DENIED),
    },
    "signatures": {  # INSERT: sign rv-agreed in one's own part, with the right hash
        "sp_own":   _row(MINE, OK, DENIED, DENIED),
        "sp_other": _row(MINE, NO, DENIED, DENIED),
        "sv_own":   _row(MINE, OK, DENIED, DENIED),
        "sv_other": _row(MINE, NO, DENIED, DENIED),
        "lead":     _NOTHING,
        "admin":    _NOTHING,
    },
    "schema_version": {a: _row(ALL, DENIED, DENIED, DENIED) for a in ORDER},
    "team_summary": _VIEW_FOR_LEAD,
    "team_followups": _VIEW_FOR_LEAD,
    "team_calibration": _VIEW_FOR_LEAD,
    "signed_consensus": {a: _row(DENIED, VIEW, VIEW, VIEW) for a in ORDER},  # per-review rows: nobody's
}

#: the key columns a SELECT compares (views: every column)
KEYS = {
    "people": "id", "assignments": "supervisor_id, specialist_id, starts", "sessions": "id",
    "reviews": "review_id, revision", "ratings": "review_id, revision, role",
    "scores": "review_id, revision, role, practice_id", "traps": "review_id, revision, trap_id",
    "goals": "review_id, revision, goal_id", "goal_updates": "review_id, revision, goal_id",
    "drafts": "owner, key", "rubrics": "rubric_id, version", "rubric_practices": "rubric_id, version, practice_id",
    "audit": "seq", "signatures": "id", "schema_version": "version",
}

# Whose records are whose, written from the issue (not from the policies): a specialist's
# own; a supervisor's, of the specialists assigned to them (people.supervisor_id or an
# assignment in force today) or reviewed by them; blind ratings of a draft only by the rater.
_SUPERVISED = ("SELECT id FROM people WHERE supervisor_id = %(me)s UNION SELECT specialist_id FROM assignments"
               " WHERE supervisor_id = %(me)s AND starts <= %(today)s AND (ends IS NULL OR ends >= %(today)s)")
_PARTY = ("SELECT r.review_id, r.revision FROM reviews r JOIN sessions s ON s.id = r.session_id WHERE"
          " (%(kind)s = 'specialist' AND s.specialist_id = %(me)s) OR (%(kind)s = 'supervisor' AND"
          f" (r.supervisor_id = %(me)s OR s.specialist_id IN ({_SUPERVISED})))")
MINE_SQL = {
    "people": f"id = %(me)s OR id = (SELECT supervisor_id FROM people WHERE id = %(me)s) OR id IN ("
              f"SELECT supervisor_id FROM assignments WHERE specialist_id = %(me)s) OR (%(kind)s = 'supervisor'"
              f" AND id IN ({_SUPERVISED}))",
    "assignments": "supervisor_id = %(me)s OR specialist_id = %(me)s",
    "sessions": f"(%(kind)s = 'specialist' AND specialist_id = %(me)s) OR (%(kind)s = 'supervisor' AND"
                f" specialist_id IN ({_SUPERVISED}))",
    "reviews": f"(review_id, revision) IN ({_PARTY})",
    "ratings": f"(review_id, revision) IN ({_PARTY}) AND (role = %(rrole)s OR (SELECT status FROM reviews x"
               " WHERE x.review_id = t.review_id AND x.revision = t.revision) <> 'draft')",
    "traps": f"(review_id, revision) IN ({_PARTY})",
    "drafts": "owner = %(login)s",
}
MINE_SQL["scores"] = MINE_SQL["ratings"]
MINE_SQL["goals"] = MINE_SQL["goal_updates"] = MINE_SQL["signatures"] = MINE_SQL["traps"]

#: the writes of each cell (run in order, in one transaction that is rolled back; the
#: last one's rowcount counts). Parameters: me, login, kind, rrole (the actor's own blind
#: rating: self or supervisor), srole (the part they sign in), digest (of rv-agreed).
STATEMENTS: dict[str, dict[str, list[str]]] = {
    "people": {
        "INSERT": ["INSERT INTO people (id, display_name, role) VALUES ('zz-new', 'Nova Quill', 'specialist')"],
        "UPDATE": ["UPDATE people SET display_name = display_name WHERE id = 'sp-1'"],
        "DELETE": ["DELETE FROM people WHERE id = 'ld-1'"],
    },
    "assignments": {
        "INSERT": ["INSERT INTO assignments (supervisor_id, specialist_id, starts) VALUES ('sv-2', 'sp-1', '2026-01-01')"],
        "UPDATE": ["UPDATE assignments SET ends = ends WHERE specialist_id = 'sp-1'"],
        "DELETE": ["DELETE FROM assignments WHERE specialist_id = 'sp-1'"],
    },
    "sessions": {
        "INSERT": ["INSERT INTO sessions (id, specialist_id, session_date, modality, duration_min, source)"
                   " VALUES ('zz-se', 'sp-1', '2026-03-01', 'in_person', 50, 'observed')"],
        "UPDATE": ["UPDATE sessions SET duration_min = duration_min WHERE id = 'se-draft'"],
        "DELETE": ["DELETE FROM sessions WHERE id = 'se-blank'"],
    },
    "reviews": {
        "INSERT": ["INSERT INTO reviews (review_id, revision, session_id, supervisor_id, review_date, status,"
                   " rubric_id, rubric_version, saved_at, saved_by)"
                   " VALUES ('zz-rv', 1, 'se-blank', 'sv-1', '2026-03-12', 'draft', 'peer-rapport', '1.0', '-', '-')"],
        "UPDATE": ["UPDATE reviews SET review_date = review_date WHERE review_id = 'rv-draft'"],
        "DELETE": ["DELETE FROM reviews WHERE review_id = 'rv-blank'"],
    },
    "ratings": {
        "INSERT": ["INSERT INTO ratings (review_id, revision, role, rater_id, rubric_id, rubric_version)"
                   " VALUES ('rv-blank', 1, %(rrole)s, %(me)s, 'peer-rapport', '1.0')"],
        "UPDATE": ["UPDATE ratings SET rater_id = rater_id WHERE review_id = 'rv-partial' AND role = %(rrole)s"],
        "DELETE": ["DELETE FROM ratings WHERE review_id = 'rv-partial' AND role = %(rrole)s"],
    },
    "scores": {
        "INSERT": ["INSERT INTO scores (review_id, revision, role, practice_id, rated, score, note)"
                   " VALUES ('rv-partial', 1, %(rrole)s, 'empathy', 1, 3, '')"],
        "UPDATE": ["UPDATE scores SET score = score WHERE review_id = 'rv-draft' AND role = %(rrole)s"],
        "DELETE": ["DELETE FROM scores WHERE review_id = 'rv-draft' AND role = %(rrole)s"],
    },
    "traps": {
        "INSERT": ["INSERT INTO traps (review_id, revision, trap_id) VALUES ('rv-draft', 1, 'judgement')"],
        "UPDATE": ["UPDATE traps SET trap_id = trap_id WHERE review_id = 'rv-draft'"],
        "DELETE": ["DELETE FROM traps WHERE review_id = 'rv-draft'"],
    },
    "goals": {
        "INSERT": ["INSERT INTO goals (review_id, revision, goal_id, practice_id, text, actions, follow_up, target)"
                   " VALUES ('rv-draft', 1, 'zz-goal', 'empathy', 'Grow', '', '2026-05-01', 3)"],
        "UPDATE": ["UPDATE goals SET target = target WHERE review_id = 'rv-draft'"],
        "DELETE": ["DELETE FROM goals WHERE review_id = 'rv-draft'"],
    },
    "goal_updates": {
        "INSERT": ["INSERT INTO goal_updates (review_id, revision, goal_id, status, note)"
                   " VALUES ('rv-draft', 1, 'zz-goal', 'open', '')"],
        "UPDATE": ["UPDATE goal_updates SET status = status WHERE review_id = 'rv-draft'"],
        "DELETE": ["DELETE FROM goal_updates WHERE review_id = 'rv-draft'"],
    },
    "drafts": {
        "INSERT": ["INSERT INTO drafts (key, payload, updated_at, updated_by) VALUES ('zz-key', '{}', '-', '-')"],
        "UPDATE": ["UPDATE drafts SET payload = payload WHERE owner = 'sp_one'"],
        "DELETE": ["DELETE FROM drafts WHERE owner = 'sp_one'"],
    },
    "rubrics": {
        "INSERT": ["INSERT INTO rubrics (rubric_id, version, digest, definition, recorded_at)"
                   " VALUES ('zz-rubric', '1', 'd', 'definition', '-')"],
        "UPDATE": ["UPDATE rubrics SET digest = digest WHERE rubric_id = 'peer-rapport'"],
        "DELETE": ["DELETE FROM rubrics WHERE rubric_id = 'zz-unused'"],
    },
    "rubric_practices": {  # recording a new rubric: the rubric, then its practices
        "INSERT": ["INSERT INTO rubrics (rubric_id, version, digest, definition, recorded_at)"
                   " VALUES ('zz-rubric', '1', 'd', 'definition', '-')",
                   "INSERT INTO rubric_practices (rubric_id, version, practice_id) VALUES ('zz-rubric', '1', 'zz_p')"],
        "UPDATE": ["UPDATE rubric_practices SET practice_id = practice_id WHERE rubric_id = 'peer-rapport'"],
        "DELETE": ["DELETE FROM rubric_practices WHERE rubric_id = 'peer-rapport'"],
    },
    "audit": {
        "INSERT": ["INSERT INTO audit (action, entity, entity_id) VALUES ('note', 'matrix', 'x')"],
        "UPDATE": ["UPDATE audit SET reason = reason"],
        "DELETE": ["DELETE FROM audit"],
    },
    "signatures": {
        "INSERT": ["INSERT INTO signatures (review_id, revision, role, content_sha256)"
                   " VALUES ('rv-agreed', 1, %(srole)s, %(digest)s)"],
        "UPDATE": ["UPDATE signatures SET voided_at = voided_at WHERE review_id = 'rv-signed'"],
        "DELETE": ["DELETE FROM signatures WHERE review_id = 'rv-signed'"],
    },
    "schema_version": {
        "INSERT": ["INSERT INTO schema_version VALUES (99)"],
        "UPDATE": ["UPDATE schema_version SET version = version"],
        "DELETE": ["DELETE FROM schema_version"],
    },
}
for _view, _col in (("team_summary", "reviews"), ("team_followups", "open"), ("team_calibration", "pairs"),
                    ("signed_consensus", "score")):
    STATEMENTS[_view] = {
        "INSERT": [f"INSERT INTO {_view} ({_col}) VALUES (1)"],
        "UPDATE": [f"UPDATE {_view} SET {_col} = {_col}"],
        "DELETE": [f"DELETE FROM {_view}"],
    }

# ---------------------------------------------------------------------------- set-up


class _External(Cluster):
    """A running cluster given by its socket folder (the mutation script's); never stopped here."""

    def __init__(self, host: str) -> None:  # attach: no initdb, no start
        self.dir, self.superuser = Path(host), "postgres"

    def stop(self) -> None:
        pass


def _dbname(url: str) -> str:
    return url.split("///", 1)[1].split("?", 1)[0]


def _url_as(url: str, login: str) -> str:
    return url.replace("user=postgres", f"user={login}")


def build_world(url: str) -> list[str]:
    """Set up the team and its records in the empty database ``url`` (the installer's
    URL); returns the steps the real roles could not take (done by the installer)."""
    rubric = default_rubric()
    failures: list[str] = []
    with Store(url, rubric=rubric) as installer:
        patch = os.environ.get("RAPPORTKIT_TEST_SCHEMA_PATCH")
        if patch:
            installer.conn.raw.execute(patch)
        installer.save_many(people=PEOPLE, reason="the access matrix's team")

        def as_role(login: str) -> Store:
            return Store(_url_as(url, login), rubric=rubric)

        def step(label: str, login: str, action, fallback=None):
            """Take a step as ``login``; if the database refuses it, note why and take
            it as the installer (so the rest of the matrix still has its records)."""
            try:
                with as_role(login) as store:
                    return action(store)
            except Exception as exc:  # noqa: BLE001 - recorded, reported by a test
                failures.append(f"{label} as {login}: {type(exc).__name__}: {str(exc).strip().splitlines()[0]}")
                return (fallback or action)(installer)

        for sup, spec in ASSIGNMENTS:
            step(f"assign {spec} to {sup}", "ad_one",
                 lambda s, sup=sup, spec=spec: s.assign(sup, spec, starts=dt.date.fromisoformat(ASSIGNED_FROM)))

        # earlier signed reviews (the lead's aggregates) and the goal rv-draft gives a verdict on
        boundaries_unseen = all_scores(rubric, 3, boundaries=None)
        installer.save_review(build_review(rubric, review_id="rv-old-1", session_id="se-old-1",
                                           review_date="2026-01-10", self_scores=boundaries_unseen,
                                           goals=[goal("g-old", follow_up="2026-02-10")]))
        installer.save_review(build_review(rubric, review_id="rv-old-2", session_id="se-old-2",
                                           review_date="2026-02-10", self_scores=boundaries_unseen,
                                           goal_updates=[GoalUpdate("g-old", "carried", UPDATE_NOTE)]))
        installer.save_review(build_review(rubric, review_id="rv-sp2", session_id="se-sp2", specialist="sp-2",
                                           review_date="2026-02-12", self_scores=boundaries_unseen,
                                           traps=["judgement"], goals=[goal("g-sp2", follow_up="2026-04-12")]))
        installer.save_review(build_review(rubric, review_id="rv-sp3s", session_id="se-sp3s", specialist="sp-3",
                                           supervisor="sv-2", review_date="2026-02-01", self_scores=boundaries_unseen,
                                           traps=["judgement"], goals=[goal("g-sp3", follow_up="2026-03-01")]))
        installer.save_review(build_review(rubric, stage="draft", review_id="rv-sp3", session_id="se-sp3",
                                           specialist="sp-3", supervisor="sv-2", review_date="2026-03-02",
                                           traps=["power_struggle"], goal_updates=[GoalUpdate("g-sp3", "met")]))
        # write targets for the matrix: a draft with no rating, and one with two empty ratings
        blank = model.new_review(model.Session("se-blank", "sp-1", dt.date(2026, 3, 1), "video", 45, "recording"),
                                 "sv-1", rubric, review_date=dt.date(2026, 3, 3), review_id="rv-blank")
        installer.save_review(blank)
        partial = model.new_review(model.Session("se-partial", "sp-1", dt.date(2026, 3, 2), "video", 45, "recording"),
                                   "sv-1", rubric, review_date=dt.date(2026, 3, 4), review_id="rv-partial")
        partial = model.with_rating(partial, Rating.empty("sp-1", RaterRole.SELF, rubric), rubric)
        partial = model.with_rating(partial, Rating.empty("sv-1", RaterRole.SUPERVISOR, rubric), rubric)
        installer.save_review(partial)

        # the four states, by the real people
        for n, rid in enumerate(FLOW_REVIEWS):
            session = model.Session(f"se-{rid[3:]}", "sp-1", dt.date(2026, 3, 5 + n), "in_person", 50, "observed",
                                    f"S-{2000 + n}")
            own = model.with_rating(
                model.new_review(session, "sv-1", rubric, review_date=dt.date(2026, 3, 10 + n), review_id=rid),
                Rating("sp-1", RaterRole.SELF, all_scores(rubric, 2), {"empathy": SELF_NOTE}, rubric.id,
                       rubric.version), rubric)
            step(f"{rid}: the specialist saves the self-rating", "sp_one", lambda s, r=own: s.save_review(r))

            def supervisor_rates(s, rid=rid, n=n):
                r = s.review(rid)
                r = model.with_rating(r, Rating("sv-1", RaterRole.SUPERVISOR, all_scores(rubric, 3),
                                                {"empathy": SUP_NOTE}, rubric.id, rubric.version), rubric)
                goals = [Goal(f"g-{rid}", "empathy", GOAL_TEXT, GOAL_ACTIONS, dt.date(2026, 4, 1) if n == 3
                              else dt.date(2026, 5, 1))]
                updates = [GoalUpdate("g-old", "carried", UPDATE_NOTE)] if rid == "rv-draft" else []
                r = model.with_details(r, rubric, traps=["dominating"], goals=goals, goal_updates=updates)
                return s.save_review(r)

            step(f"{rid}: the supervisor saves the blind rating, traps and goals", "sv_one", supervisor_rates)
            if rid == "rv-draft":
                continue
            step(f"{rid}: the supervisor reveals", "sv_one", lambda s, rid=rid: s.reveal(rid))
            if rid == "rv-revealed":
                continue

            def agree(s, rid=rid):
                r = s.review(rid)
                cons = Rating("sv-1", RaterRole.CONSENSUS, dict(r.supervisor_rating.scores),
                              {p: RATIONALE for p in rubric.practice_ids}, rubric.id, rubric.version)
                return s.save_review(model.agree(r, cons, rubric))

            step(f"{rid}: the supervisor saves the consensus (agreed)", "sv_one", agree)
            if rid == "rv-agreed":
                continue
            for login, part in (("sp_one", "specialist"), ("sv_one", "supervisor")):
                step(f"{rid}: the {part} signs", login,
                     lambda s, rid=rid, part=part: s.save_review(model.sign(s.review(rid), part)))

        raw = installer.conn.raw
        for owner in ("sp_one", "sp_two", "sv_one", "sv_two", "ld_one", "ad_one"):
            raw.execute("INSERT INTO drafts (owner, key, payload, updated_at, updated_by) VALUES (%s, %s, %s, '-', %s)",
                        (owner, f"form-{owner}", json.dumps({"typed": f"what {owner} typed"}), owner))
        raw.execute("INSERT INTO rubrics (rubric_id, version, digest, definition, recorded_at)"
                    " VALUES ('zz-unused', '1', 'd', 'definition', '-')")
        states = dict(raw.execute("SELECT review_id, status FROM reviews").fetchall())
    expected = {"rv-draft": "draft", "rv-revealed": "revealed", "rv-agreed": "agreed", "rv-signed": "signed",
                "rv-old-1": "signed", "rv-old-2": "signed", "rv-sp2": "signed", "rv-sp3": "draft", "rv-sp3s": "signed",
                "rv-blank": "draft", "rv-partial": "draft"}
    assert states == expected, f"the set-up did not reach its states: {states}"
    return failures


class World:
    """The template database, the socket folder and what the set-up noticed."""

    def __init__(self, cluster, template: str, failures: list[str]) -> None:
        self.cluster = cluster
        self.template = template
        self.failures = failures

    def clone(self) -> str:
        """A fresh copy of the set-up (superuser URL), with the mutation applied."""
        url = new_pg_database(self.cluster, self.template)
        mutation = os.environ.get("RAPPORTKIT_TEST_MUTATION")
        if mutation:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(mutation)
        return url


@pytest.fixture(scope="module")
def world(request) -> World:
    host = os.environ.get("RAPPORTKIT_TEST_PG_HOST")
    cluster = _External(host) if host else request.getfixturevalue("pg_cluster")
    template = os.environ.get("RAPPORTKIT_TEST_ACCESS_TEMPLATE")
    if template and host:
        failures = json.loads(os.environ.get("RAPPORTKIT_TEST_ACCESS_FAILURES", "[]"))
        return World(cluster, template, failures)
    url = new_pg_database(cluster)
    failures = build_world(url)
    return World(cluster, _dbname(url), failures)


class Db:
    """One database clone: the superuser's connection and one per actor (autocommit;
    every attempt is its own transaction, rolled back unless it says otherwise)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.su = psycopg.connect(url, autocommit=True)
        self.conns = {a: psycopg.connect(_url_as(url, login), autocommit=True) for a, (login, _, _) in ACTORS.items()}
        self.digest = self.su.execute("SELECT rk_content_digest('rv-agreed', 1)").fetchone()[0]

    def close(self) -> None:
        for conn in (self.su, *self.conns.values()):
            conn.close()

    def params(self, actor: str) -> dict:
        login, me, kind = ACTORS[actor]
        return {"me": me, "login": login, "kind": kind, "today": dt.date.today().isoformat(),
                "rrole": "supervisor" if kind == "supervisor" else "self",
                "srole": "supervisor" if kind == "supervisor" else "specialist", "digest": self.digest}

    def attempt(self, actor: str | None, sqls: list[str] | str, params: dict | None = None, *, commit: bool = False):
        """Run ``sqls`` as ``actor`` (None: the superuser) in one transaction. Returns
        ("rows", rows) or ("count", n) for the last statement, or ("error", sqlstate, message)."""
        conn = self.su if actor is None else self.conns[actor]
        sqls = [sqls] if isinstance(sqls, str) else sqls
        try:
            with conn.transaction(force_rollback=not commit):
                cur = None
                for sql in sqls:
                    cur = conn.execute(sql, params or None)
                if cur.description is not None:
                    return ("rows", cur.fetchall())
                return ("count", cur.rowcount)
        except psycopg.Error as exc:
            return ("error", exc.sqlstate, str(exc).strip().splitlines()[0] if str(exc).strip() else "")


def classify(result) -> str:
    """The outcome word for an attempt's result (see the module notes)."""
    if result[0] == "error":
        state, message = result[1], result[2]
        if state == "42501" and "row-level security" in message:
            return RLS
        if state == "42501":
            return DENIED
        if state in ("55000", "0A000") and "view" in message:
            return VIEW
        if state.startswith("RK"):
            return REFUSED
        return f"ERROR {state}: {message}"
    if result[0] == "count":
        return OK if result[1] > 0 else ZERO
    return "ROWS"


@pytest.fixture(scope="module")
def db(world):
    d = Db(world.clone())
    yield d
    d.close()
    world.cluster.drop_database(_dbname(d.url))


@pytest.fixture
def fresh(world):
    """A clone of the set-up of its own, for a test that commits."""
    d = Db(world.clone())
    yield d
    d.close()
    world.cluster.drop_database(_dbname(d.url))


# ---------------------------------------------------------------------------- the matrix

CELLS = [(rel, actor, op) for rel in MATRIX for actor in ORDER for op in OPS]


@pytest.mark.parametrize(("relation", "actor", "op"), CELLS, ids=[f"{r}-{a}-{o}" for r, a, o in CELLS])
def test_access_matrix(db, relation, actor, op):
    expected = MATRIX[relation][actor][op]
    params = db.params(actor)
    if op == "SELECT":
        cols = KEYS.get(relation, "*")
        result = db.attempt(actor, f"SELECT {cols} FROM {relation} ORDER BY {cols if cols != '*' else '1'}")
        if expected in (DENIED,):
            assert classify(result) == DENIED, f"{actor} SELECT {relation}: expected permission denied, got {result}"
            return
        assert result[0] == "rows", f"{actor} SELECT {relation}: expected rows, got {result}"
        seen = sorted(result[1], key=repr)
        everything = sorted(db.attempt(None, f"SELECT {cols} FROM {relation}")[1], key=repr)
        if expected == ALL:
            assert everything, f"the set-up left {relation} empty: the cell could not fail"
            assert seen == everything, f"{actor} should see all of {relation}"
            return
        assert expected == MINE
        mine = db.attempt(None, f"SELECT {cols} FROM {relation} t WHERE {MINE_SQL[relation]}", params)
        assert mine[0] == "rows", mine
        mine = sorted(mine[1], key=repr)
        # others' rows exist, so a leak would show (an empty "own" part is fine: other cells hold it)
        assert mine != everything, f"the set-up gives {actor} only their own rows of {relation}"
        extra = [r for r in seen if r not in mine]
        missing = [r for r in mine if r not in seen]
        assert not extra and not missing, (
            f"{actor} ({ACTORS[actor][0]}) SELECT {relation}: sees {len(extra)} row(s) not theirs {extra[:5]}, "
            f"misses {len(missing)} of their own {missing[:5]}")
        return
    result = db.attempt(actor, STATEMENTS[relation][op], params)
    got = classify(result)
    if expected == NO and got in (RLS, REFUSED):
        return
    assert got == expected, f"{actor} ({ACTORS[actor][0]}) {op} {relation}: expected {expected}, got {got} {result}"


def test_matrix_covers_every_relation(db):
    """Every table and view of the schema has its row in the matrix."""
    rels = {r for (r,) in db.su.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'").fetchall()}
    assert rels == set(MATRIX)


# ---------------------------------------------------------------------------- the set-up itself


def test_review_flow_through_real_roles(world):
    """The whole life of a review (self-rating, blind rating, reveal, agree, both sign) and
    the roster (assignments by the admin) work through Store as the real roles."""
    assert not world.failures, "steps the real roles could not take:\n" + "\n".join(world.failures)


# ---------------------------------------------------------------------------- blind both ways


def _roles(db, actor, table, review):
    result = db.attempt(actor, f"SELECT DISTINCT role FROM {table} WHERE review_id = %(r)s ORDER BY role", {"r": review})
    assert result[0] == "rows", result
    return [r[0] for r in result[1]]


@pytest.mark.parametrize("table", ["ratings", "scores"])
def test_blind_before_reveal(db, table):
    assert _roles(db, None, table, "rv-draft") == ["self", "supervisor"]
    assert _roles(db, "sp_own", table, "rv-draft") == ["self"]
    assert _roles(db, "sv_own", table, "rv-draft") == ["supervisor"]
    # asking for the other's rows by name finds nothing either
    other = {"sp_own": "supervisor", "sv_own": "self"}
    for actor, role in other.items():
        rows = db.attempt(actor, f"SELECT * FROM {table} WHERE review_id = 'rv-draft' AND role = %(role)s",
                          {"role": role})
        assert rows == ("rows", []), f"{actor} reads the {role} rating of a draft: {rows}"


def test_blind_notes_unreadable_before_reveal(db):
    for actor, secret in (("sp_own", SUP_NOTE), ("sv_own", SELF_NOTE)):
        rows = db.attempt(actor, "SELECT note FROM scores WHERE review_id = 'rv-draft'")
        assert rows[0] == "rows" and secret not in repr(rows[1]), f"{actor} reads the other's note before reveal"


@pytest.mark.parametrize("actor", ["sp_own", "sv_own"])
def test_a_party_cannot_lift_the_blind_by_writing_the_status(db, actor):
    for status in ("revealed", "agreed"):
        got = db.attempt(actor, ["UPDATE reviews SET status = %(s)s WHERE review_id = 'rv-draft'",
                                 "SELECT DISTINCT role FROM ratings WHERE review_id = 'rv-draft'"], {"s": status})
        assert got[0] == "error" and got[1] in ("RK001", "RK003"), f"{actor} set rv-draft {status}: {got}"


@pytest.mark.parametrize("table", ["ratings", "scores"])
def test_both_read_both_after_reveal(db, table):
    for actor in ("sp_own", "sv_own"):
        assert _roles(db, actor, table, "rv-revealed") == ["self", "supervisor"], actor
    notes = db.attempt("sp_own", "SELECT note FROM scores WHERE review_id = 'rv-revealed'")
    assert SUP_NOTE in repr(notes), "the specialist reads the supervisor's note once revealed"


@pytest.mark.parametrize("actor", ["sp_own", "sv_own"])
def test_reveal_in_the_database_lifts_the_blind(db, actor):
    """rk_reveal (either party) on the complete draft; in the same transaction both rows show."""
    other = "supervisor" if actor == "sp_own" else "self"
    got = db.attempt(actor, ["SELECT rk_reveal('rv-draft', 1)",
                             "SELECT count(*) FROM ratings WHERE review_id = 'rv-draft' AND role = %(o)s"], {"o": other})
    assert got == ("rows", [(1,)]), got


@pytest.mark.parametrize("actor", ["sp_other", "sv_other", "lead", "admin"])
def test_a_non_party_cannot_reveal(db, actor):
    got = db.attempt(actor, "SELECT rk_reveal('rv-draft', 1)")
    assert got[0] == "error" and got[1] in ("RK003", "42501"), got


# ---------------------------------------------------------------------------- signatures

_SIGN = "INSERT INTO signatures (review_id, revision, role, content_sha256) VALUES (%(r)s, 1, %(role)s, %(h)s)"


@pytest.mark.parametrize(("actor", "role", "why"), [
    ("sp_own", "supervisor", "the specialist signs as the supervisor"),
    ("sv_own", "specialist", "the supervisor signs as the specialist"),
    ("sp_other", "specialist", "another specialist signs"),
    ("sv_other", "supervisor", "another supervisor signs"),
])
def test_a_forged_signature_is_refused(db, actor, role, why):
    got = db.attempt(actor, _SIGN, {"r": "rv-agreed", "role": role, "h": db.digest})
    party = actor in ("sp_own", "sv_own")
    # a party signing in the other's part: RK003; a non-party cannot see the review at all
    allowed = ("RK003",) if party else ("RK002", "RK003")
    assert (got[0] == "error" and got[1] in allowed) or (not party and classify(got) == RLS), f"{why}: {got}"


@pytest.mark.parametrize("actor", ["lead", "admin"])
def test_lead_and_admin_sign_nothing(db, actor):
    got = db.attempt(actor, _SIGN, {"r": "rv-agreed", "role": "specialist", "h": db.digest})
    assert classify(got) == DENIED, got


def test_a_signature_over_other_content_is_refused(db):
    got = db.attempt("sp_own", _SIGN, {"r": "rv-agreed", "role": "specialist", "h": "0" * 64})
    assert got[0] == "error" and got[1] == "RK004", got


def test_an_unagreed_review_is_not_signed(db):
    digest = db.su.execute("SELECT rk_content_digest('rv-revealed', 1)").fetchone()[0]
    got = db.attempt("sp_own", _SIGN, {"r": "rv-revealed", "role": "specialist", "h": digest})
    assert got[0] == "error" and got[1] == "RK001", got


def test_the_client_sets_none_of_the_signature_s_own_columns(db):
    got = db.attempt("sp_own", "INSERT INTO signatures (review_id, revision, role, content_sha256, signer_login,"
                     " printed_name, kind, signed_at, person_id, meaning) VALUES ('rv-agreed', 1, 'specialist', %(h)s,"
                     " 'sv_one', 'Someone Else', 'signed', '1999-01-01', 'sv-1', 'nothing')", {"h": db.digest})
    assert classify(got) == DENIED, got


@pytest.mark.parametrize(("actor", "role", "person"), [("sp_own", "specialist", "sp-1"),
                                                       ("sv_own", "supervisor", "sv-1")])
def test_the_right_person_signs(db, actor, role, person):
    got = db.attempt(actor, [_SIGN, "SELECT role, person_id, signer_login, kind, meaning, voided_at FROM signatures"
                                    " WHERE review_id = 'rv-agreed'"],
                     {"r": "rv-agreed", "role": role, "h": db.digest})
    from rapportkit.pg_schema import MEANING

    assert got == ("rows", [(role, person, ACTORS[actor][0], "signed", MEANING, None)]), got


def test_a_change_after_signing_voids_the_signature(fresh):
    db = fresh
    assert classify(db.attempt("sp_own", _SIGN, {"r": "rv-agreed", "role": "specialist", "h": db.digest},
                               commit=True)) == OK
    live = "SELECT count(*) FROM signatures WHERE review_id = 'rv-agreed' AND voided_at IS NULL"
    assert db.su.execute(live).fetchone()[0] == 1
    assert db.su.execute("SELECT specialist_signed_at IS NOT NULL FROM reviews WHERE review_id = 'rv-agreed'"
                         ).fetchone()[0]
    changed = db.attempt("sv_own", "UPDATE scores SET score = 4 WHERE review_id = 'rv-agreed' AND role = 'consensus'"
                         " AND practice_id = 'empathy'", commit=True)
    assert changed == ("count", 1), changed
    assert db.su.execute(live).fetchone()[0] == 0, "the signature survived a change of the content"
    assert db.su.execute("SELECT specialist_signed_at FROM reviews WHERE review_id = 'rv-agreed'").fetchone()[0] is None
    # and the old hash no longer signs
    again = db.attempt("sp_own", _SIGN, {"r": "rv-agreed", "role": "specialist", "h": db.digest})
    assert again[0] == "error" and again[1] == "RK004", again


# ---------------------------------------------------------------------------- the audit log


def test_the_client_cannot_set_the_audit_actor(fresh):
    db = fresh
    got = db.attempt("sp_own", "INSERT INTO audit (seq, at, actor, action, entity, entity_id, prev_hash, hash)"
                     " VALUES (1, '1999-01-01', 'mallory', 'forge', 'review', 'rv-draft#1', 'x', 'y')", commit=True)
    assert got == ("count", 1), got
    seq, at, actor, prev, digest = db.su.execute(
        "SELECT seq, at, actor, prev_hash, hash FROM audit WHERE action = 'forge'").fetchone()
    assert actor == "sp_one"
    assert at > "2025" and seq > 1 and prev != "x" and digest != "y"
    assert db.su.execute("SELECT hash FROM audit WHERE seq = %s", (seq - 1,)).fetchone()[0] == prev


@pytest.mark.parametrize("actor", [None, *ORDER], ids=["superuser", *ORDER])
@pytest.mark.parametrize("sql", ["UPDATE audit SET actor = 'mallory'", "DELETE FROM audit", "TRUNCATE audit"])
def test_the_audit_log_is_append_only(db, actor, sql):
    got = db.attempt(actor, sql)
    if actor is None:
        assert got[0] == "error" and got[1] == "RK001", got  # the triggers hold even the superuser
    else:
        assert classify(got) == DENIED, got


# ---------------------------------------------------------------------------- the lead

_LEAD_VIEWS = ("team_summary", "team_followups", "team_calibration")
_AGGREGATE_COLUMNS = {"specialist_id", "specialist_name", "practice_id", "reviews", "recent_mean", "suppressed",
                      "open", "overdue", "met", "carried", "dropped", "pairs", "mean_signed_gap", "exact_pct",
                      "within_one_pct"}


@pytest.mark.parametrize("table", ["scores", "goals", "goal_updates", "audit", "reviews", "ratings", "sessions",
                                   "traps", "signatures", "signed_consensus"])
def test_the_lead_reads_no_record(db, table):
    assert classify(db.attempt("lead", f"SELECT * FROM {table}")) == DENIED


def test_the_lead_sees_no_free_text_anywhere(db):
    rels = [r for (r,) in db.su.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'").fetchall()]
    readable = []
    for rel in rels:
        got = db.attempt("lead", f"SELECT * FROM {rel}")
        if got[0] == "rows":
            readable.append(rel)
            for secret in SECRETS:
                assert secret not in repr(got[1]), f"the lead reads {secret!r} in {rel}"
    assert set(_LEAD_VIEWS) <= set(readable)
    for view in _LEAD_VIEWS:
        cols = {c for (c,) in db.su.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s", (view,)).fetchall()}
        assert cols <= _AGGREGATE_COLUMNS, f"{view} has columns {cols - _AGGREGATE_COLUMNS}"


def test_the_team_summary_suppresses_small_cells(db):
    rows = db.attempt("lead", "SELECT specialist_id, practice_id, reviews, recent_mean, suppressed FROM team_summary")
    assert rows[0] == "rows", rows
    by = {(s, p): (n, m, sup) for s, p, n, m, sup in rows[1]}
    assert by, "the summary is empty"
    for (spec, practice), (n, mean, suppressed) in by.items():
        if n < 3:
            assert suppressed and mean is None, f"{spec} {practice}: {n} review(s) shown as {mean}"
        else:
            assert not suppressed and mean is not None
    assert {n for (s, _), (n, _, _) in by.items() if s == "sp-2"} == {1}
    assert {n for (s, _), (n, _, _) in by.items() if s == "sp-1"} == {3}


def test_the_calibration_suppresses_small_cells(db):
    rows = db.attempt("lead", "SELECT practice_id, pairs, mean_signed_gap, exact_pct, within_one_pct, suppressed"
                              " FROM team_calibration")
    assert rows[0] == "rows", rows
    by = {r[0]: r[1:] for r in rows[1]}
    assert by["boundaries"][0] < 3 and by["boundaries"][1:] == (None, None, None, True)
    assert by["empathy"][0] >= 3 and by["empathy"][4] is False and by["empathy"][1] is not None


def test_the_followups_count_goals(db):
    rows = db.attempt("lead", "SELECT specialist_id, open, overdue FROM team_followups")
    assert rows[0] == "rows", rows
    assert ("sp-1", 2, 2) in rows[1], rows  # g-old (follow-up passed) and g-rv-signed (passed); drafts not counted


# ---------------------------------------------------------------------------- signed means final

_SIGNED_ROWS = [
    ("reviews", "UPDATE reviews SET review_date = review_date WHERE review_id = 'rv-signed'"),
    ("reviews", "DELETE FROM reviews WHERE review_id = 'rv-signed'"),
    ("ratings", "UPDATE ratings SET rater_id = rater_id WHERE review_id = 'rv-signed'"),
    ("ratings", "DELETE FROM ratings WHERE review_id = 'rv-signed'"),
    ("scores", "UPDATE scores SET score = score WHERE review_id = 'rv-signed'"),
    ("scores", "DELETE FROM scores WHERE review_id = 'rv-signed'"),
    ("traps", "UPDATE traps SET trap_id = trap_id WHERE review_id = 'rv-signed'"),
    ("traps", "DELETE FROM traps WHERE review_id = 'rv-signed'"),
    ("goals", "UPDATE goals SET text = text WHERE review_id = 'rv-signed'"),
    ("goals", "DELETE FROM goals WHERE review_id = 'rv-signed'"),
    ("goal_updates", "UPDATE goal_updates SET note = note WHERE review_id = 'rv-old-2'"),
    ("goal_updates", "DELETE FROM goal_updates WHERE review_id = 'rv-old-2'"),
    ("signatures", "UPDATE signatures SET voided_at = '2026-01-01' WHERE review_id = 'rv-signed'"),
    ("signatures", "DELETE FROM signatures WHERE review_id = 'rv-signed'"),
]


@pytest.mark.parametrize(("table", "sql"), _SIGNED_ROWS, ids=[s.split()[0] + "-" + t for t, s in _SIGNED_ROWS])
def test_a_signed_revision_never_changes_even_for_the_superuser(db, table, sql):
    got = db.attempt(None, sql)
    assert got[0] == "error" and got[1] == "RK001", f"{sql}: {got}"


@pytest.mark.parametrize("actor", ["sp_own", "sv_own"])
@pytest.mark.parametrize(("table", "sql"), _SIGNED_ROWS, ids=[s.split()[0] + "-" + t for t, s in _SIGNED_ROWS])
def test_a_signed_revision_never_changes_for_its_parties(db, actor, table, sql):
    got = db.attempt(actor, sql)
    assert got[0] == "error" or got == ("count", 0), f"{actor}: {sql}: {got}"


@pytest.mark.parametrize("table", ["reviews", "ratings", "scores", "traps", "goals", "goal_updates", "signatures",
                                   "sessions", "people"])
def test_records_are_never_truncated(db, table):
    """Even by the superuser. The other tables' triggers are switched off (in the rolled-back
    transaction), so that CASCADE reaching them does not hide a missing trigger on this one."""
    others = [t for (t,) in db.su.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
              if t != table]
    got = db.attempt(None, [f"ALTER TABLE {t} DISABLE TRIGGER USER" for t in others] + [f"TRUNCATE {table} CASCADE"])
    assert got[0] == "error" and got[1] == "RK001", got


@pytest.mark.parametrize("sql", [
    "UPDATE rubrics SET definition = 'edited' WHERE rubric_id = 'peer-rapport'",
    "DELETE FROM rubrics WHERE rubric_id = 'zz-unused'",
    "UPDATE rubric_practices SET practice_id = 'renamed' WHERE rubric_id = 'peer-rapport' AND practice_id = 'empathy'",
    "DELETE FROM rubric_practices WHERE rubric_id = 'peer-rapport'",
])
def test_a_recorded_rubric_never_changes_even_for_the_superuser(db, sql):
    got = db.attempt(None, sql)
    assert got[0] == "error" and got[1] == "RK001", got


@pytest.mark.parametrize("actor", [None, "sp_own", "sv_own"], ids=["superuser", "sp_own", "sv_own"])
def test_the_session_of_a_signed_review_never_changes(db, actor):
    """The session's lines are part of what the signatures cover (rk_content_digest)."""
    got = db.attempt(actor, "UPDATE sessions SET duration_min = duration_min + 5 WHERE id = 'se-signed'")
    assert got[0] == "error" or got == ("count", 0), f"the session of a signed review changed: {got}"


# ---------------------------------------------------------------------------- the administrator


def test_the_admin_manages_the_roster(fresh):
    db = fresh
    got = db.attempt("admin", ["INSERT INTO people (id, display_name, role, supervisor_id, login)"
                               " VALUES ('sp-9', 'Nell Farrow', 'specialist', 'sv-2', 'sp_nine')",
                               "INSERT INTO assignments (supervisor_id, specialist_id, starts) VALUES ('sv-2', 'sp-9', %(d)s)",
                               "SELECT rk_grant_login('sp_nine', 'specialist')"], {"d": ASSIGNED_FROM}, commit=True)
    assert got[0] == "rows", got
    assert db.su.execute("SELECT pg_has_role('sp_nine', 'rk_specialist', 'MEMBER')").fetchone()[0]


@pytest.mark.parametrize("actor", ["sp_own", "sv_own", "lead"])
def test_only_the_admin_gives_logins(db, actor):
    got = db.attempt(actor, "SELECT rk_grant_login('sp_eight', 'supervisor')")
    assert got[0] == "error" and got[1] in ("42501", "RK003"), got


@pytest.mark.parametrize("login", ["postgres", "rk_system", "rk_owner"])
def test_the_admin_cannot_hand_out_a_reserved_role(db, login):
    got = db.attempt("admin", "SELECT rk_grant_login(%(l)s, 'admin')", {"l": login})
    assert got[0] == "error" and got[1] == "RK002", got


@pytest.mark.parametrize("sql", [
    "SELECT * FROM reviews", "SELECT * FROM scores", "SELECT * FROM audit",
    "UPDATE reviews SET review_date = review_date", "UPDATE scores SET score = score",
    "DELETE FROM reviews WHERE review_id = 'rv-blank'",
])
def test_the_admin_reads_and_changes_no_review(db, sql):
    assert classify(db.attempt("admin", sql)) == DENIED


# ---------------------------------------------------------------------------- smaller rules


def test_a_draft_is_kept_for_its_owner_only(db):
    got = db.attempt("sp_other", "INSERT INTO drafts (owner, key, payload, updated_at, updated_by)"
                                 " VALUES ('sp_one', 'planted', '{}', '-', '-')")
    assert classify(got) == RLS, got


def test_a_recorded_rubric_gains_no_practice(db):
    """A practice added to a recorded rubric would make every rating of it incomplete
    (rk_reveal counts the rubric's practices): a recorded rubric never changes."""
    got = db.attempt("sp_own", "INSERT INTO rubric_practices (rubric_id, version, practice_id)"
                               " VALUES ('peer-rapport', '1.0', 'zz_extra')")
    assert got[0] == "error", f"a specialist added a practice to the recorded rubric: {got}"


@pytest.mark.parametrize("call", ["rk_status('rv-draft', 1)", "rk_content_digest('rv-draft', 1)",
                                  "rk_party('rv-draft', 1)"])
def test_the_system_functions_tell_a_non_party_nothing(db, call):
    got = db.attempt("sp_other", f"SELECT {call}")
    assert got == ("rows", [(None,)]) or (got[0] == "error" and got[1] in ("42501", "RK003")), (
        f"sp_two (no party to rv-draft) learns {call} = {got}")


@pytest.mark.parametrize(("actor", "role"), [("sp_own", "self"), ("sv_own", "supervisor")])
def test_a_blind_rating_is_frozen_once_revealed(db, actor, role):
    """Nobody changes their blind rating after seeing the other's."""
    for sql in ("UPDATE scores SET score = 4 WHERE review_id = 'rv-revealed' AND role = %(role)s",
                "DELETE FROM scores WHERE review_id = 'rv-revealed' AND role = %(role)s"):
        got = db.attempt(actor, sql, {"role": role})
        assert got == ("count", 0) or got[0] == "error", f"{actor}: {sql}: {got}"


def test_a_supervisor_opens_no_review_of_a_specialist_not_theirs(db):
    """sv-2 does not supervise sp-1: naming themselves the supervisor does not make them one."""
    got = db.attempt("sv_other", "INSERT INTO reviews (review_id, revision, session_id, supervisor_id, review_date,"
                     " status, rubric_id, rubric_version, saved_at, saved_by) VALUES ('zz-rv', 1, 'se-blank', 'sv-2',"
                     " '2026-03-12', 'draft', 'peer-rapport', '1.0', '-', '-')")
    assert got[0] == "error", f"sv_two opened a review of sp-1: {got}"


def test_a_specialist_cannot_hand_their_review_to_another_supervisor(db):
    """Re-pointing reviews.supervisor_id would show both ratings, notes included, to sv-2."""
    got = db.attempt("sp_own", "UPDATE reviews SET supervisor_id = 'sv-2' WHERE review_id = 'rv-revealed'")
    assert got == ("count", 0) or got[0] == "error", f"sp_one gave rv-revealed to sv-2: {got}"


@pytest.mark.parametrize("actor", list(ACTORS))
def test_everyone_may_ask_who_they_are(db, actor):
    """rapportkit asks these as every person when it opens their store (``Store.me``,
    ``Store.installer``): the database answers with the person, and never "installer"."""
    login, person, _kind = ACTORS[actor]
    assert db.attempt(actor, "SELECT rk_me(), rk_installer()") == ("rows", [(person, False)])

