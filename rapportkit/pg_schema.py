"""The PostgreSQL schema: tables, the database's own rules (triggers), roles, grants,
row-level security and the programme lead's aggregate views.

Who may do what is decided here, by PostgreSQL, for every connection whatever code runs
in it. The connection's role is the person (``people.login = session_user``); group roles
say what kind of person it is:

========== ==================================================================
role       may
========== ==================================================================
rk_specialist  read and write their own sessions and self-ratings; read their own
               reviews (the supervisor's rating once revealed); sign as the specialist
rk_supervisor  read and write the records of the specialists assigned to them; write
               supervisor ratings, consensus, traps and goals; sign as the supervisor
rk_lead        read the team aggregates only (``team_summary``, ``team_followups``,
               ``team_calibration``; cells under 3 reviews suppressed; no free text)
rk_admin       manage the roster and assignments (``people``, ``assignments``,
               ``rk_grant_login``); never a review or the audit log
========== ==================================================================

Objects are owned by ``rk_owner`` (NOLOGIN) and every table has ``FORCE ROW LEVEL
SECURITY``, so even the owner is held to the policies. Functions the policies call, and
the views for leads, belong to ``rk_system`` (NOLOGIN, BYPASSRLS): they read what a
policy needs to decide without showing it. The installer (a superuser, or a member of
``rk_owner``) sets up and imports; superusers bypass row-level security by PostgreSQL's
design, so keep that account for administration.

Schema changes are numbered migrations (:data:`MIGRATIONS`) recorded in
``schema_version``; :func:`migrate` runs the missing ones in one transaction. Roles are
cluster-wide and created idempotently.
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import AccessError, SchemaVersionError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "TEAM_ROLES", "MEANING", "migrate", "schema_version",
           "ensure_roles"]

#: person role -> database group role
TEAM_ROLES = {"specialist": "rk_specialist", "supervisor": "rk_supervisor", "lead": "rk_lead", "admin": "rk_admin"}

from .model import MEANING

_ROLES_SQL = """
DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['rk_owner', 'rk_system', 'rk_specialist', 'rk_supervisor', 'rk_lead', 'rk_admin'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;
END $$;
-- rk_system owns the functions and views that see past the policies; it inherits nothing
-- from the group roles it may grant, so each of its privileges below is its own
ALTER ROLE rk_system BYPASSRLS CREATEROLE NOINHERIT;
ALTER ROLE rk_owner NOBYPASSRLS;
GRANT rk_specialist, rk_supervisor, rk_lead, rk_admin TO rk_system WITH ADMIN OPTION;
"""

_TABLES = """
CREATE TABLE schema_version (version integer NOT NULL);
INSERT INTO schema_version VALUES (0);
CREATE TABLE people (
    id text PRIMARY KEY,
    display_name text NOT NULL,
    role text NOT NULL CHECK (role IN ('specialist', 'supervisor', 'lead', 'admin')),
    supervisor_id text REFERENCES people(id),
    active integer NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    login text UNIQUE
);
CREATE TABLE assignments (
    supervisor_id text NOT NULL REFERENCES people(id),
    specialist_id text NOT NULL REFERENCES people(id),
    starts text NOT NULL,
    ends text,
    PRIMARY KEY (supervisor_id, specialist_id, starts),
    CHECK (ends IS NULL OR ends >= starts)
);
CREATE TABLE sessions (
    id text PRIMARY KEY,
    specialist_id text NOT NULL REFERENCES people(id),
    session_date text NOT NULL,
    modality text NOT NULL,
    duration_min integer NOT NULL,
    source text NOT NULL,
    code text
);
CREATE TABLE reviews (
    rowid bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    review_id text NOT NULL,
    revision integer NOT NULL,
    session_id text NOT NULL REFERENCES sessions(id),
    supervisor_id text NOT NULL REFERENCES people(id),
    review_date text NOT NULL,
    status text NOT NULL CHECK (status IN ('draft', 'revealed', 'agreed', 'signed', 'amended')),
    rubric_id text NOT NULL,
    rubric_version text NOT NULL,
    specialist_signed_at text,
    supervisor_signed_at text,
    amend_reason text,
    saved_at text NOT NULL,
    saved_by text NOT NULL,
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (review_id, revision)
);
CREATE TABLE ratings (
    review_id text NOT NULL,
    revision integer NOT NULL,
    role text NOT NULL CHECK (role IN ('self', 'supervisor', 'consensus')),
    rater_id text NOT NULL,
    rubric_id text NOT NULL,
    rubric_version text NOT NULL,
    PRIMARY KEY (review_id, revision, role),
    FOREIGN KEY (review_id, revision) REFERENCES reviews (review_id, revision)
);
CREATE TABLE scores (
    review_id text NOT NULL,
    revision integer NOT NULL,
    role text NOT NULL,
    practice_id text NOT NULL,
    rated integer NOT NULL CHECK (rated IN (0, 1)),
    score integer CHECK (score BETWEEN 1 AND 4),
    note text NOT NULL DEFAULT '',
    PRIMARY KEY (review_id, revision, role, practice_id),
    FOREIGN KEY (review_id, revision, role) REFERENCES ratings (review_id, revision, role)
);
CREATE TABLE traps (
    review_id text NOT NULL,
    revision integer NOT NULL,
    trap_id text NOT NULL,
    PRIMARY KEY (review_id, revision, trap_id),
    FOREIGN KEY (review_id, revision) REFERENCES reviews (review_id, revision)
);
CREATE TABLE goals (
    rowid bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    review_id text NOT NULL,
    revision integer NOT NULL,
    goal_id text NOT NULL,
    practice_id text NOT NULL,
    text text NOT NULL,
    actions text NOT NULL DEFAULT '',
    follow_up text NOT NULL,
    target integer NOT NULL DEFAULT 3,
    PRIMARY KEY (review_id, revision, goal_id),
    FOREIGN KEY (review_id, revision) REFERENCES reviews (review_id, revision)
);
CREATE TABLE goal_updates (
    rowid bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    review_id text NOT NULL,
    revision integer NOT NULL,
    goal_id text NOT NULL,
    status text NOT NULL CHECK (status IN ('open', 'met', 'carried', 'dropped')),
    note text NOT NULL DEFAULT '',
    PRIMARY KEY (review_id, revision, goal_id),
    FOREIGN KEY (review_id, revision) REFERENCES reviews (review_id, revision)
);
CREATE TABLE drafts (
    owner text NOT NULL DEFAULT session_user,
    key text NOT NULL,
    payload text NOT NULL,
    updated_at text NOT NULL,
    updated_by text NOT NULL,
    PRIMARY KEY (owner, key)
);
CREATE TABLE rubrics (
    rubric_id text NOT NULL,
    version text NOT NULL,
    digest text NOT NULL,
    definition text NOT NULL,
    recorded_at text NOT NULL,
    PRIMARY KEY (rubric_id, version)
);
CREATE TABLE audit (
    seq bigint PRIMARY KEY,
    at text NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    entity text NOT NULL,
    entity_id text NOT NULL,
    before text,
    after text,
    reason text,
    prev_hash text NOT NULL,
    hash text NOT NULL
);
CREATE TABLE signatures (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    review_id text NOT NULL,
    revision integer NOT NULL,
    role text NOT NULL CHECK (role IN ('specialist', 'supervisor')),
    person_id text NOT NULL REFERENCES people(id),
    printed_name text NOT NULL,
    signer_login text NOT NULL,
    meaning text NOT NULL,
    content_sha256 text NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
    signed_at text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('signed', 'imported')),
    voided_at text,
    FOREIGN KEY (review_id, revision) REFERENCES reviews (review_id, revision)
);
CREATE UNIQUE INDEX one_live_signature ON signatures (review_id, revision, role) WHERE voided_at IS NULL;
CREATE INDEX sessions_by_specialist ON sessions (specialist_id, session_date);
CREATE INDEX reviews_by_session ON reviews (session_id);
CREATE INDEX audit_by_entity ON audit (entity, entity_id);
CREATE INDEX goal_updates_by_goal ON goal_updates (goal_id);
CREATE INDEX scores_by_review ON scores (review_id, revision);
"""

# Functions the policies and triggers use. Owned by rk_system (BYPASSRLS): they see what
# they need to decide, and return only the decision.
_FUNCTIONS = r"""
CREATE FUNCTION rk_now() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') $$;

CREATE FUNCTION rk_installer() RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$ SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false)
          OR pg_has_role(session_user, 'rk_owner', 'MEMBER') $$;

CREATE FUNCTION rk_in(team_role text) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$ SELECT pg_has_role(session_user, team_role, 'MEMBER') $$;

CREATE FUNCTION rk_me() RETURNS text LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$ SELECT id FROM people WHERE login = session_user AND active = 1 $$;

CREATE FUNCTION rk_supervises(specialist text) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT rk_in('rk_supervisor') AND (
    EXISTS (SELECT 1 FROM people WHERE id = specialist AND supervisor_id = rk_me())
    OR EXISTS (SELECT 1 FROM assignments a WHERE a.specialist_id = specialist AND a.supervisor_id = rk_me()
               AND a.starts <= to_char(current_date, 'YYYY-MM-DD')
               AND (a.ends IS NULL OR a.ends >= to_char(current_date, 'YYYY-MM-DD'))))
$$;

-- is this person (one of) the connected specialist's supervisor(s)
CREATE FUNCTION rk_supervises_me(supervisor text) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM people WHERE id = rk_me() AND supervisor_id = supervisor)
      OR EXISTS (SELECT 1 FROM assignments WHERE specialist_id = rk_me() AND supervisor_id = supervisor)
$$;

-- the connected person's part in a review of this session with this supervisor
CREATE FUNCTION rk_party_of(session text, supervisor text) RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT CASE
    WHEN rk_me() IS NULL THEN NULL
    WHEN rk_in('rk_specialist') AND (SELECT specialist_id FROM sessions WHERE id = session) = rk_me() THEN 'specialist'
    WHEN rk_in('rk_supervisor') AND (supervisor = rk_me()
         OR rk_supervises((SELECT specialist_id FROM sessions WHERE id = session))) THEN 'supervisor'
  END
$$;

CREATE FUNCTION rk_party(review text, rev integer) RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT rk_party_of(session_id, supervisor_id) FROM reviews WHERE review_id = review AND revision = rev
$$;

-- a review's status, told only to its parties and the installer (NULL to anyone else)
CREATE FUNCTION rk_status(review text, rev integer) RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT status FROM reviews WHERE review_id = review AND revision = rev
     AND (rk_party(review, rev) IS NOT NULL OR rk_installer())
$$;

-- may the connected person write this rating: each their own blind rating while the
-- review is a draft; the consensus is the supervisor's
CREATE FUNCTION rk_may_write_rating(review text, rev integer, rating_role text) RETURNS boolean LANGUAGE sql STABLE
SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT CASE rk_party(review, rev)
    WHEN 'specialist' THEN rating_role = 'self' AND rk_status(review, rev) = 'draft'
    WHEN 'supervisor' THEN (rating_role = 'supervisor' AND rk_status(review, rev) = 'draft')
                           OR rating_role = 'consensus'
                           -- an amendment carries the signed revision's blind ratings over (rk_amended_copy)
                           OR (rating_role IN ('self', 'supervisor') AND rk_status(review, rev) = 'amended')
    ELSE false END
$$;

-- The sets the read policies test rows against. Each is computed once per query (an
-- uncorrelated IN list, hashed), not once per row: reading a whole team's frame through
-- the policies costs about what reading it directly does.
CREATE FUNCTION rk_my_specialists() RETURNS SETOF text LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT rk_me() WHERE rk_in('rk_specialist') AND rk_me() IS NOT NULL
  UNION
  SELECT p.id FROM people p
   WHERE rk_in('rk_supervisor') AND rk_me() IS NOT NULL AND (p.supervisor_id = rk_me() OR EXISTS (
         SELECT 1 FROM assignments a WHERE a.specialist_id = p.id AND a.supervisor_id = rk_me()
            AND a.starts <= to_char(current_date, 'YYYY-MM-DD')
            AND (a.ends IS NULL OR a.ends >= to_char(current_date, 'YYYY-MM-DD'))))
$$;

CREATE FUNCTION rk_my_reviews() RETURNS TABLE (review_id text, revision integer, party text, status text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH me AS (SELECT rk_me() AS id, rk_in('rk_specialist') AS sp, rk_in('rk_supervisor') AS sv)
  SELECT r.review_id, r.revision,
         CASE WHEN me.sp AND s.specialist_id = me.id THEN 'specialist' ELSE 'supervisor' END, r.status
    FROM reviews r JOIN sessions s ON s.id = r.session_id CROSS JOIN me
   WHERE me.id IS NOT NULL AND ((me.sp AND s.specialist_id = me.id)
         OR (me.sv AND (r.supervisor_id = me.id OR s.specialist_id IN (SELECT rk_my_specialists()))))
$$;

-- the ratings the connected person may read: their own blind rating always; the other's,
-- and the consensus, once the review is revealed
CREATE FUNCTION rk_my_readable_ratings() RETURNS TABLE (review_id text, revision integer, role text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT m.review_id, m.revision, x.role FROM rk_my_reviews() m
   CROSS JOIN (VALUES ('self'), ('supervisor'), ('consensus')) x(role)
   WHERE (m.party = 'specialist' AND x.role = 'self') OR (m.party = 'supervisor' AND x.role = 'supervisor')
      OR m.status <> 'draft'
$$;

CREATE FUNCTION rk_my_people() RETURNS SETOF text LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT id FROM people WHERE rk_in('rk_admin') OR rk_in('rk_lead')
  UNION SELECT rk_me() WHERE rk_me() IS NOT NULL
  UNION SELECT rk_my_specialists()
  UNION SELECT supervisor_id FROM people WHERE id = rk_me() AND supervisor_id IS NOT NULL
  UNION SELECT supervisor_id FROM assignments WHERE specialist_id = rk_me()
$$;

CREATE FUNCTION rk_sha(value text) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT encode(sha256(convert_to(coalesce(value, ''), 'UTF8')), 'hex') $$;

-- what a signature covers, computed by the database from the rows (the same lines as
-- rapportkit.model.content_digest)
CREATE FUNCTION rk_content_digest(review text, rev integer) RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT CASE WHEN rk_party(review, rev) IS NOT NULL OR rk_installer() THEN  -- only to its parties
    encode(sha256(convert_to(coalesce(string_agg(line, E'\n' ORDER BY line COLLATE "C"), ''), 'UTF8')), 'hex') END
  FROM (
    SELECT concat_ws('|', 'review', r.review_id, r.revision, r.session_id, r.supervisor_id, r.review_date,
                     r.rubric_id, r.rubric_version, rk_sha(r.amend_reason)) AS line
      FROM reviews r WHERE r.review_id = review AND r.revision = rev
    UNION ALL
    SELECT concat_ws('|', 'session', s.id, s.specialist_id, s.session_date, s.modality, s.duration_min, s.source,
                     rk_sha(s.code))
      FROM reviews r JOIN sessions s ON s.id = r.session_id WHERE r.review_id = review AND r.revision = rev
    UNION ALL
    SELECT concat_ws('|', 'rating', role, rater_id, rubric_id, rubric_version)
      FROM ratings WHERE review_id = review AND revision = rev
    UNION ALL
    SELECT concat_ws('|', 'score', role, practice_id, rated, coalesce(score::text, ''), rk_sha(note))
      FROM scores WHERE review_id = review AND revision = rev
    UNION ALL
    SELECT concat_ws('|', 'trap', trap_id) FROM traps WHERE review_id = review AND revision = rev
    UNION ALL
    SELECT concat_ws('|', 'goal', goal_id, practice_id, rk_sha(text), rk_sha(actions), follow_up, target)
      FROM goals WHERE review_id = review AND revision = rev
    UNION ALL
    SELECT concat_ws('|', 'goal_update', goal_id, status, rk_sha(note))
      FROM goal_updates WHERE review_id = review AND revision = rev
  ) lines
$$;
"""

_TRIGGERS = r"""
-- the audit log: the database sets the sequence, the time, the actor and the hash chain
CREATE FUNCTION rk_audit_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE last record;
BEGIN
  PERFORM pg_advisory_xact_lock(7262);
  SELECT seq, hash INTO last FROM audit ORDER BY seq DESC LIMIT 1;
  NEW.seq := coalesce(last.seq, 0) + 1;
  NEW.prev_hash := coalesce(last.hash, repeat('0', 64));
  NEW.at := rk_now();
  NEW.actor := session_user;
  NEW.hash := encode(sha256(convert_to(
      '[' || NEW.seq || ',' || to_json(NEW.at)::text || ',' || to_json(NEW.actor)::text || ','
      || to_json(NEW.action)::text || ',' || to_json(NEW.entity)::text || ',' || to_json(NEW.entity_id)::text || ','
      || coalesce(to_json(NEW.before)::text, 'null') || ',' || coalesce(to_json(NEW.after)::text, 'null') || ','
      || coalesce(to_json(NEW.reason)::text, 'null') || ',' || to_json(NEW.prev_hash)::text || ']',
      'UTF8')), 'hex');
  RETURN NEW;
END $$;
CREATE TRIGGER audit_chain BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION rk_audit_chain();

CREATE FUNCTION rk_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'RK001', MESSAGE = TG_ARGV[0];
END $$;
CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
  FOR EACH ROW EXECUTE FUNCTION rk_refuse('the audit log is append-only');
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
  FOR EACH STATEMENT EXECUTE FUNCTION rk_refuse('the audit log is append-only');
CREATE TRIGGER rubrics_no_change BEFORE UPDATE OR DELETE ON rubrics
  FOR EACH ROW EXECUTE FUNCTION rk_refuse('a recorded rubric never changes; give an edited rubric a new version');
CREATE TRIGGER signatures_no_delete BEFORE DELETE ON signatures
  FOR EACH ROW EXECUTE FUNCTION rk_refuse('a signature is never deleted; a change to the record voids it');

-- who saved, when, and the signature columns: the database's, never the client's
CREATE FUNCTION rk_review_row() RETURNS trigger LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE sp text; sv text;
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.status = 'signed' THEN
    RAISE EXCEPTION USING ERRCODE = 'RK001', MESSAGE = 'a signed revision never changes; amend it with a reason';
  END IF;
  IF TG_OP = 'UPDATE' AND (NEW.review_id, NEW.revision, NEW.session_id) IS DISTINCT FROM
                          (OLD.review_id, OLD.revision, OLD.session_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'RK001', MESSAGE = 'a review keeps its id, revision and session';
  END IF;
  IF current_user <> 'rk_system' AND NOT rk_installer() THEN
    -- who the review is with: a specialist files it with one of their own supervisors and
    -- changes none of its particulars; a supervisor files and keeps it under their own name
    IF rk_party_of(NEW.session_id, NEW.supervisor_id) = 'specialist' THEN
      IF TG_OP = 'INSERT' AND NOT rk_supervises_me(NEW.supervisor_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'RK003',
          MESSAGE = 'a specialist files a review with their own supervisor';
      END IF;
      IF TG_OP = 'UPDATE' AND (NEW.supervisor_id, NEW.review_date, NEW.rubric_id, NEW.rubric_version, NEW.amend_reason)
                               IS DISTINCT FROM
                              (OLD.supervisor_id, OLD.review_date, OLD.rubric_id, OLD.rubric_version, OLD.amend_reason) THEN
        RAISE EXCEPTION USING ERRCODE = 'RK003',
          MESSAGE = 'a specialist changes only their own rating of a review; its supervisor, date and rubric stay';
      END IF;
    ELSIF NEW.supervisor_id IS DISTINCT FROM rk_me() THEN
      RAISE EXCEPTION USING ERRCODE = 'RK003', MESSAGE = 'a supervisor files and keeps reviews under their own name';
    ELSIF TG_OP = 'INSERT' AND NOT coalesce(rk_supervises((SELECT specialist_id FROM sessions WHERE id = NEW.session_id)),
                                            false) THEN
      RAISE EXCEPTION USING ERRCODE = 'RK003',
        MESSAGE = 'a supervisor opens reviews only of the specialists assigned to them';
    END IF;
    -- status steps a client may take itself: a specialist none (the self-rating is a draft;
    -- reveal and signatures go through rk_reveal and the signatures table)
    -- (signing asks for 'signed'; the status follows the signature rows below, whoever asks)
    IF rk_party_of(NEW.session_id, NEW.supervisor_id) = 'specialist'
       AND NEW.status IS DISTINCT FROM (CASE WHEN TG_OP = 'UPDATE' THEN OLD.status ELSE 'draft' END)
       AND NOT (TG_OP = 'UPDATE' AND OLD.status IN ('agreed', 'amended') AND NEW.status = 'signed') THEN
      RAISE EXCEPTION USING ERRCODE = 'RK003',
        MESSAGE = 'a specialist does not change a review''s status; the supervisor reveals, agrees and both sign';
    END IF;
    IF TG_OP = 'INSERT' AND NEW.status NOT IN ('draft', 'amended') THEN
      RAISE EXCEPTION USING ERRCODE = 'RK001',
        MESSAGE = 'a review starts as a draft (or an amendment of a signed one); reveal, agree and sign follow';
    END IF;
    IF NEW.status = 'revealed' AND OLD.status = 'draft' THEN
      RAISE EXCEPTION USING ERRCODE = 'RK001',
        MESSAGE = 'reveal the ratings with Store.reveal (the database checks both are complete)';
    END IF;
    IF NEW.status IN ('agreed') AND TG_OP = 'UPDATE' AND OLD.status = 'draft' THEN
      RAISE EXCEPTION USING ERRCODE = 'RK001', MESSAGE = 'reveal both ratings before agreeing the consensus';
    END IF;
  END IF;
  SELECT max(signed_at) FILTER (WHERE role = 'specialist'), max(signed_at) FILTER (WHERE role = 'supervisor')
    INTO sp, sv FROM signatures
   WHERE review_id = NEW.review_id AND revision = NEW.revision AND voided_at IS NULL;
  NEW.specialist_signed_at := sp;
  NEW.supervisor_signed_at := sv;
  IF NEW.status = 'signed' AND (sp IS NULL OR sv IS NULL) THEN
    NEW.status := CASE WHEN NEW.revision > 1 THEN 'amended' ELSE 'agreed' END;
  END IF;
  NEW.saved_at := rk_now();
  NEW.saved_by := session_user;
  RETURN NEW;
END $$;
CREATE TRIGGER reviews_row BEFORE INSERT OR UPDATE ON reviews FOR EACH ROW EXECUTE FUNCTION rk_review_row();
CREATE TRIGGER reviews_no_delete BEFORE DELETE ON reviews FOR EACH ROW
  WHEN (OLD.status = 'signed') EXECUTE FUNCTION rk_refuse('a signed revision never changes; amend it with a reason');

-- the session a signed review covers is part of what its signatures cover: it never changes
CREATE FUNCTION rk_session_row() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM reviews WHERE session_id = OLD.id AND status = 'signed') THEN
    RAISE EXCEPTION USING ERRCODE = 'RK001',
      MESSAGE = format('session %s belongs to a signed review and never changes; record a new session', OLD.id);
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER sessions_of_signed_reviews BEFORE UPDATE OR DELETE ON sessions
  FOR EACH ROW EXECUTE FUNCTION rk_session_row();

-- the rows of a signed revision never change; any change to a revision's content voids
-- the signatures given on it
CREATE FUNCTION rk_content_row() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE k record;
BEGIN
  IF TG_OP = 'DELETE' THEN k := OLD; ELSE k := NEW; END IF;
  IF EXISTS (SELECT 1 FROM reviews r WHERE r.status = 'signed' AND ((r.review_id, r.revision) = (k.review_id, k.revision)
             OR (TG_OP = 'UPDATE' AND (r.review_id, r.revision) = (OLD.review_id, OLD.revision)))) THEN
    RAISE EXCEPTION USING ERRCODE = 'RK001', MESSAGE = 'a signed revision never changes; amend it with a reason';
  END IF;
  UPDATE signatures SET voided_at = rk_now()
   WHERE review_id = k.review_id AND revision = k.revision AND voided_at IS NULL;
  IF FOUND THEN
    UPDATE reviews SET version = version WHERE review_id = k.review_id AND revision = k.revision;
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$;

-- in an amendment the blind ratings are those of the revision it amends, unchanged
CREATE FUNCTION rk_amended_copy() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF NEW.role IN ('self', 'supervisor') AND EXISTS (
       SELECT 1 FROM reviews r WHERE (r.review_id, r.revision) = (NEW.review_id, NEW.revision) AND r.status = 'amended') THEN
    -- (one statement per table: a branch is compiled only when it runs)
    IF TG_TABLE_NAME = 'ratings' THEN
      IF NOT EXISTS (SELECT 1 FROM ratings o WHERE o.review_id = NEW.review_id AND o.revision = NEW.revision - 1
                        AND o.role = NEW.role AND o.rater_id = NEW.rater_id AND o.rubric_id = NEW.rubric_id
                        AND o.rubric_version = NEW.rubric_version) THEN
        RAISE EXCEPTION USING ERRCODE = 'RK001',
          MESSAGE = 'an amendment keeps the blind ratings of the revision it amends; correct the consensus, goals or traps';
      END IF;
    ELSIF NOT EXISTS (SELECT 1 FROM scores o WHERE o.review_id = NEW.review_id AND o.revision = NEW.revision - 1
                        AND o.role = NEW.role AND o.practice_id = NEW.practice_id AND o.rated = NEW.rated
                        AND o.score IS NOT DISTINCT FROM NEW.score AND o.note = NEW.note) THEN
      RAISE EXCEPTION USING ERRCODE = 'RK001',
        MESSAGE = 'an amendment keeps the blind ratings of the revision it amends; correct the consensus, goals or traps';
    END IF;
  END IF;
  RETURN NEW;
END $$;

-- a signature: only by that review's specialist or supervisor, over the content as it is
CREATE FUNCTION rk_signature_row() RETURNS trigger LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE st text; party text; who record; expected text; sess text; sup text;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF current_user = 'rk_system' AND OLD.voided_at IS NULL AND NEW.voided_at IS NOT NULL
       AND (NEW.id, NEW.review_id, NEW.revision, NEW.role, NEW.person_id, NEW.printed_name, NEW.signer_login,
            NEW.meaning, NEW.content_sha256, NEW.signed_at, NEW.kind)
           = (OLD.id, OLD.review_id, OLD.revision, OLD.role, OLD.person_id, OLD.printed_name, OLD.signer_login,
              OLD.meaning, OLD.content_sha256, OLD.signed_at, OLD.kind) THEN
      RETURN NEW;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'RK001', MESSAGE = 'a signature never changes; a change to the record voids it';
  END IF;
  SELECT r.status, r.session_id, r.supervisor_id INTO st, sess, sup FROM reviews r
   WHERE r.review_id = NEW.review_id AND r.revision = NEW.revision;
  IF st IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'RK002', MESSAGE = format('there is no review %s revision %s to sign', NEW.review_id, NEW.revision);
  END IF;
  IF st NOT IN ('agreed', 'amended') THEN
    RAISE EXCEPTION USING ERRCODE = 'RK001', MESSAGE = format('review %s is %s; only an agreed record is signed', NEW.review_id, st);
  END IF;
  NEW.person_id := CASE NEW.role WHEN 'specialist' THEN (SELECT specialist_id FROM sessions WHERE id = sess) ELSE sup END;
  NEW.signer_login := session_user;
  NEW.meaning := rapportkit_meaning();
  NEW.voided_at := NULL;
  SELECT display_name, login INTO who FROM people WHERE id = NEW.person_id;
  NEW.printed_name := who.display_name;
  IF who.login IS NOT NULL AND who.login = session_user AND rk_party_of(sess, sup) = NEW.role
     AND rk_me() = NEW.person_id THEN
    NEW.kind := 'signed';
    NEW.signed_at := rk_now();
  ELSIF rk_installer() THEN
    NEW.kind := 'imported';  -- an import or the demo: recorded by the installer, not signed here
    NEW.signed_at := coalesce(NEW.signed_at, rk_now());
  ELSE
    RAISE EXCEPTION USING ERRCODE = 'RK003',
      MESSAGE = format('only %s (the review''s %s) may sign as its %s', who.display_name, NEW.role, NEW.role);
  END IF;
  expected := rk_content_digest(NEW.review_id, NEW.revision);
  IF NEW.content_sha256 IS DISTINCT FROM expected THEN
    RAISE EXCEPTION USING ERRCODE = 'RK004',
      MESSAGE = format('review %s changed since you read it: the record you signed is not the record saved; reload it and sign again', NEW.review_id);
  END IF;
  RETURN NEW;
END $$;

CREATE FUNCTION rapportkit_meaning() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '{meaning}'::text $$;

-- with a signature given, the review row follows (both: signed)
CREATE FUNCTION rk_signature_given() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE n integer;
BEGIN
  SELECT count(*) INTO n FROM signatures
   WHERE review_id = NEW.review_id AND revision = NEW.revision AND voided_at IS NULL;
  UPDATE reviews SET status = CASE WHEN n >= 2 THEN 'signed' ELSE status END
   WHERE review_id = NEW.review_id AND revision = NEW.revision;
  RETURN NULL;
END $$;
CREATE TRIGGER signatures_row BEFORE INSERT OR UPDATE ON signatures FOR EACH ROW EXECUTE FUNCTION rk_signature_row();
CREATE TRIGGER signatures_given AFTER INSERT ON signatures FOR EACH ROW EXECUTE FUNCTION rk_signature_given();

-- what each status means, checked when the transaction commits
CREATE FUNCTION rk_status_rules() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE r record; k record; n_sig integer; roles text[];
BEGIN
  IF TG_OP = 'DELETE' THEN k := OLD; ELSE k := NEW; END IF;
  SELECT * INTO r FROM reviews WHERE review_id = k.review_id AND revision = k.revision;
  IF NOT FOUND THEN RETURN NULL; END IF;
  SELECT array_agg(role ORDER BY role) INTO roles FROM ratings WHERE review_id = r.review_id AND revision = r.revision;
  SELECT count(*) INTO n_sig FROM signatures
   WHERE review_id = r.review_id AND revision = r.revision AND voided_at IS NULL;
  IF r.status <> 'draft' AND NOT (roles @> ARRAY['self', 'supervisor']) THEN
    RAISE EXCEPTION USING ERRCODE = 'RK001',
      MESSAGE = format('review %s is %s without both blind ratings', r.review_id, r.status);
  END IF;
  IF r.status IN ('agreed', 'signed', 'amended') AND NOT (roles @> ARRAY['consensus']) THEN
    RAISE EXCEPTION USING ERRCODE = 'RK001',
      MESSAGE = format('review %s is %s without a consensus', r.review_id, r.status);
  END IF;
  IF r.status = 'draft' AND roles @> ARRAY['consensus'] THEN
    RAISE EXCEPTION USING ERRCODE = 'RK001', MESSAGE = format('review %s is a draft with a consensus', r.review_id);
  END IF;
  IF (r.status = 'signed') <> (n_sig >= 2) THEN
    RAISE EXCEPTION USING ERRCODE = 'RK001',
      MESSAGE = format('review %s is %s with %s signature(s)', r.review_id, r.status, n_sig);
  END IF;
  IF r.revision = 1 AND r.status = 'amended' THEN
    RAISE EXCEPTION USING ERRCODE = 'RK001', MESSAGE = format('revision 1 of %s cannot be an amendment', r.review_id);
  END IF;
  IF r.revision > 1 AND coalesce(r.amend_reason, '') = '' THEN
    RAISE EXCEPTION USING ERRCODE = 'RK001', MESSAGE = format('revision %s of %s has no reason', r.revision, r.review_id);
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER reviews_status_rules AFTER INSERT OR UPDATE ON reviews
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rk_status_rules();
CREATE CONSTRAINT TRIGGER ratings_status_rules AFTER INSERT OR UPDATE OR DELETE ON ratings
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rk_status_rules();

-- reveal: either party, once both blind ratings are complete
CREATE FUNCTION rk_reveal(review text, rev integer) RETURNS text LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE st text; party text; incomplete text;
BEGIN
  party := rk_party(review, rev);
  IF party IS NULL AND NOT rk_installer() THEN
    RAISE EXCEPTION USING ERRCODE = 'RK003', MESSAGE = format('only the specialist or the supervisor of review %s may reveal it', review);
  END IF;
  SELECT status INTO st FROM reviews WHERE review_id = review AND revision = rev FOR UPDATE;
  IF st IS DISTINCT FROM 'draft' THEN
    RETURN st;
  END IF;
  SELECT string_agg(w, ' and ') INTO incomplete FROM (
    SELECT CASE x.role WHEN 'self' THEN 'the self-rating' ELSE 'the supervisor''s rating' END AS w
      FROM (VALUES ('self'), ('supervisor')) x(role)
     WHERE NOT EXISTS (SELECT 1 FROM ratings WHERE review_id = review AND revision = rev AND role = x.role)
        OR EXISTS (SELECT 1 FROM ratings ra JOIN rubric_practices rp ON rp.rubric_id = ra.rubric_id AND rp.version = ra.rubric_version
                    WHERE ra.review_id = review AND ra.revision = rev AND ra.role = x.role
                      AND NOT EXISTS (SELECT 1 FROM scores s WHERE s.review_id = review AND s.revision = rev
                                      AND s.role = x.role AND s.practice_id = rp.practice_id AND s.rated = 1))) w;
  IF incomplete IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'RK001',
      MESSAGE = format('%s of review %s is not complete yet; both rate every practice (or mark it not observed) before the reveal', incomplete, review);
  END IF;
  UPDATE reviews SET status = 'revealed', version = version + 1 WHERE review_id = review AND revision = rev;
  INSERT INTO audit (action, entity, entity_id, after)
  VALUES ('reveal', 'review', review || '#' || rev,
          '{"content_sha256":"' || rk_content_digest(review, rev) || '","status":"revealed"}');
  RETURN 'revealed';
END $$;
"""

_POLICIES = """
ALTER TABLE people ENABLE ROW LEVEL SECURITY;
CREATE POLICY people_read ON people FOR SELECT USING (id IN (SELECT rk_my_people()));
CREATE POLICY people_admin_insert ON people FOR INSERT WITH CHECK (rk_in('rk_admin'));
CREATE POLICY people_admin_update ON people FOR UPDATE USING (rk_in('rk_admin')) WITH CHECK (rk_in('rk_admin'));

ALTER TABLE assignments ENABLE ROW LEVEL SECURITY;
CREATE POLICY assignments_read ON assignments FOR SELECT USING (
  rk_in('rk_admin') OR supervisor_id = rk_me() OR specialist_id = rk_me());
CREATE POLICY assignments_admin_insert ON assignments FOR INSERT WITH CHECK (rk_in('rk_admin'));
CREATE POLICY assignments_admin_update ON assignments FOR UPDATE USING (rk_in('rk_admin')) WITH CHECK (rk_in('rk_admin'));

ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY sessions_parties ON sessions FOR SELECT USING (specialist_id IN (SELECT rk_my_specialists()));
CREATE POLICY sessions_parties_insert ON sessions FOR INSERT WITH CHECK (
  (rk_in('rk_specialist') AND specialist_id = rk_me()) OR rk_supervises(specialist_id));
CREATE POLICY sessions_parties_update ON sessions FOR UPDATE
  USING ((rk_in('rk_specialist') AND specialist_id = rk_me()) OR rk_supervises(specialist_id))
  WITH CHECK ((rk_in('rk_specialist') AND specialist_id = rk_me()) OR rk_supervises(specialist_id));

ALTER TABLE reviews ENABLE ROW LEVEL SECURITY;
CREATE POLICY reviews_parties ON reviews FOR SELECT
  USING ((review_id, revision) IN (SELECT review_id, revision FROM rk_my_reviews()));
CREATE POLICY reviews_parties_insert ON reviews FOR INSERT WITH CHECK (rk_party_of(session_id, supervisor_id) IS NOT NULL);
CREATE POLICY reviews_parties_update ON reviews FOR UPDATE
  USING (rk_party_of(session_id, supervisor_id) IS NOT NULL) WITH CHECK (rk_party_of(session_id, supervisor_id) IS NOT NULL);

ALTER TABLE ratings ENABLE ROW LEVEL SECURITY;
CREATE POLICY ratings_read ON ratings FOR SELECT
  USING ((review_id, revision, role) IN (SELECT review_id, revision, role FROM rk_my_readable_ratings()));
CREATE POLICY ratings_insert ON ratings FOR INSERT WITH CHECK (rk_may_write_rating(review_id, revision, role));
CREATE POLICY ratings_update ON ratings FOR UPDATE USING (rk_may_write_rating(review_id, revision, role))
  WITH CHECK (rk_may_write_rating(review_id, revision, role));
CREATE POLICY ratings_delete ON ratings FOR DELETE USING (rk_may_write_rating(review_id, revision, role));

ALTER TABLE scores ENABLE ROW LEVEL SECURITY;
CREATE POLICY scores_read ON scores FOR SELECT
  USING ((review_id, revision, role) IN (SELECT review_id, revision, role FROM rk_my_readable_ratings()));
CREATE POLICY scores_insert ON scores FOR INSERT WITH CHECK (rk_may_write_rating(review_id, revision, role));
CREATE POLICY scores_update ON scores FOR UPDATE USING (rk_may_write_rating(review_id, revision, role))
  WITH CHECK (rk_may_write_rating(review_id, revision, role));
CREATE POLICY scores_delete ON scores FOR DELETE USING (rk_may_write_rating(review_id, revision, role));
"""

# traps, goals and goal updates: both parties read, the supervisor writes
_PARTY_TABLES = ("traps", "goals", "goal_updates")
_PARTY_POLICIES = """
ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;
CREATE POLICY {t}_read ON {t} FOR SELECT USING ((review_id, revision) IN (SELECT review_id, revision FROM rk_my_reviews()));
CREATE POLICY {t}_insert ON {t} FOR INSERT WITH CHECK (rk_party(review_id, revision) = 'supervisor');
CREATE POLICY {t}_update ON {t} FOR UPDATE USING (rk_party(review_id, revision) = 'supervisor')
  WITH CHECK (rk_party(review_id, revision) = 'supervisor');
CREATE POLICY {t}_delete ON {t} FOR DELETE USING (rk_party(review_id, revision) = 'supervisor');
"""

_MORE_POLICIES = """
ALTER TABLE signatures ENABLE ROW LEVEL SECURITY;
CREATE POLICY signatures_read ON signatures FOR SELECT
  USING ((review_id, revision) IN (SELECT review_id, revision FROM rk_my_reviews()));
CREATE POLICY signatures_insert ON signatures FOR INSERT WITH CHECK (rk_party(review_id, revision) IS NOT NULL);

ALTER TABLE drafts ENABLE ROW LEVEL SECURITY;
CREATE POLICY drafts_own ON drafts USING (owner = session_user) WITH CHECK (owner = session_user);

ALTER TABLE rubrics ENABLE ROW LEVEL SECURITY;
CREATE POLICY rubrics_read ON rubrics FOR SELECT USING (true);
CREATE POLICY rubrics_record ON rubrics FOR INSERT WITH CHECK (rk_in('rk_specialist') OR rk_in('rk_supervisor'));

ALTER TABLE audit ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_append ON audit FOR INSERT WITH CHECK (true);

ALTER TABLE schema_version ENABLE ROW LEVEL SECURITY;
CREATE POLICY schema_version_read ON schema_version FOR SELECT USING (true);
"""

_ALL_TABLES = ("schema_version", "people", "assignments", "sessions", "reviews", "ratings", "scores", "traps",
               "goals", "goal_updates", "drafts", "rubrics", "audit", "signatures", "rubric_practices")

# The lead's views: owned by rk_system (BYPASSRLS), so they aggregate over everyone; no
# free text, no per-review row, and a cell of fewer than 3 reviews shows no value.
_VIEWS = """
CREATE VIEW signed_consensus AS
  SELECT s.specialist_id, r.review_id, r.review_date, sc.practice_id, sc.score,
         row_number() OVER (PARTITION BY s.specialist_id, sc.practice_id ORDER BY r.review_date DESC, r.review_id DESC) AS recent
    FROM reviews r JOIN sessions s ON s.id = r.session_id
    JOIN scores sc ON sc.review_id = r.review_id AND sc.revision = r.revision AND sc.role = 'consensus'
   WHERE r.status = 'signed' AND sc.rated = 1 AND sc.score IS NOT NULL
     AND r.revision = (SELECT max(x.revision) FROM reviews x WHERE x.review_id = r.review_id AND x.status = 'signed');
REVOKE ALL ON signed_consensus FROM PUBLIC;

CREATE VIEW team_summary AS
  SELECT p.id AS specialist_id, p.display_name AS specialist_name, c.practice_id,
         count(*)::integer AS reviews,
         CASE WHEN count(*) >= 3 THEN round(avg(c.score) FILTER (WHERE c.recent <= 3), 2) END AS recent_mean,
         (count(*) < 3) AS suppressed
    FROM signed_consensus c JOIN people p ON p.id = c.specialist_id
   GROUP BY p.id, p.display_name, c.practice_id;

CREATE VIEW team_followups AS
  WITH goal_state AS (
    SELECT s.specialist_id, g.goal_id, g.follow_up,
           coalesce((SELECT u.status FROM goal_updates u JOIN reviews ur ON ur.review_id = u.review_id AND ur.revision = u.revision
                      WHERE u.goal_id = g.goal_id AND ur.status = 'signed' ORDER BY ur.review_date DESC LIMIT 1), 'open') AS status
      FROM goals g JOIN reviews r ON r.review_id = g.review_id AND r.revision = g.revision
      JOIN sessions s ON s.id = r.session_id
     WHERE r.status = 'signed')
  SELECT p.id AS specialist_id, p.display_name AS specialist_name,
         count(*) FILTER (WHERE status IN ('open', 'carried'))::integer AS open,
         count(*) FILTER (WHERE status IN ('open', 'carried') AND follow_up < to_char(current_date, 'YYYY-MM-DD'))::integer AS overdue,
         count(*) FILTER (WHERE status = 'met')::integer AS met,
         count(*) FILTER (WHERE status = 'carried')::integer AS carried,
         count(*) FILTER (WHERE status = 'dropped')::integer AS dropped
    FROM goal_state g JOIN people p ON p.id = g.specialist_id
   GROUP BY p.id, p.display_name;

CREATE VIEW team_calibration AS
  WITH pairs AS (
    SELECT a.practice_id, a.score AS self_score, b.score AS supervisor_score
      FROM reviews r
      JOIN scores a ON a.review_id = r.review_id AND a.revision = r.revision AND a.role = 'self'
      JOIN scores b ON b.review_id = r.review_id AND b.revision = r.revision AND b.role = 'supervisor'
                    AND b.practice_id = a.practice_id
     WHERE r.status = 'signed' AND a.score IS NOT NULL AND b.score IS NOT NULL)
  SELECT practice_id, count(*)::integer AS pairs,
         CASE WHEN count(*) >= 3 THEN round(avg(self_score - supervisor_score), 2) END AS mean_signed_gap,
         CASE WHEN count(*) >= 3 THEN round(100.0 * avg((self_score = supervisor_score)::integer), 1) END AS exact_pct,
         CASE WHEN count(*) >= 3 THEN round(100.0 * avg((abs(self_score - supervisor_score) <= 1)::integer), 1) END AS within_one_pct,
         (count(*) < 3) AS suppressed
    FROM pairs GROUP BY practice_id;
"""

_GRANTS = """
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO rk_owner, rk_specialist, rk_supervisor, rk_lead, rk_admin, rk_system;
-- each role may run only the functions its policies, its triggers and rapportkit call as it
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rk_me(), rk_installer(), rk_my_people() TO rk_specialist, rk_supervisor, rk_lead, rk_admin;
GRANT EXECUTE ON FUNCTION rk_in(text) TO rk_specialist, rk_supervisor, rk_admin;
GRANT EXECUTE ON FUNCTION rk_my_specialists(), rk_my_reviews(), rk_my_readable_ratings(), rk_supervises(text),
  rk_party_of(text, text), rk_party(text, integer), rk_may_write_rating(text, integer, text),
  rk_content_digest(text, integer), rk_reveal(text, integer), rk_now(), rapportkit_meaning()
  TO rk_specialist, rk_supervisor;
GRANT EXECUTE ON FUNCTION rk_supervises_me(text) TO rk_specialist;  -- a specialist files with their own supervisor
GRANT EXECUTE ON FUNCTION rk_grant_login(text, text) TO rk_admin;
GRANT SELECT ON schema_version, rubrics, rubric_practices TO rk_specialist, rk_supervisor, rk_lead, rk_admin;
GRANT SELECT ON people TO rk_specialist, rk_supervisor, rk_lead, rk_admin;
GRANT INSERT, UPDATE ON people, assignments TO rk_admin;
GRANT SELECT ON assignments TO rk_specialist, rk_supervisor, rk_admin;
GRANT SELECT, INSERT, UPDATE ON sessions, reviews TO rk_specialist, rk_supervisor;
GRANT SELECT, INSERT, UPDATE, DELETE ON ratings, scores TO rk_specialist, rk_supervisor;
GRANT SELECT ON traps, goals, goal_updates, signatures TO rk_specialist, rk_supervisor;
GRANT INSERT, UPDATE, DELETE ON traps, goals, goal_updates TO rk_supervisor;
GRANT INSERT (review_id, revision, role, content_sha256) ON signatures TO rk_specialist, rk_supervisor;
GRANT INSERT ON rubrics, rubric_practices TO rk_specialist, rk_supervisor;
GRANT SELECT, INSERT, UPDATE, DELETE ON drafts TO rk_specialist, rk_supervisor, rk_lead, rk_admin;
GRANT INSERT ON audit TO rk_specialist, rk_supervisor, rk_admin;
GRANT SELECT ON team_summary, team_followups, team_calibration TO rk_lead;
GRANT SELECT ON people, assignments, sessions, reviews, ratings, scores, traps, goals, goal_updates, signatures,
  rubrics, rubric_practices, audit TO rk_system;
GRANT UPDATE ON reviews, signatures TO rk_system;
GRANT INSERT ON audit TO rk_system;
"""

_GRANT_LOGIN = """
-- an administrator gives a person's login its database role (created if absent);
-- peer authentication then makes the OS account of that name this person
CREATE FUNCTION rk_grant_login(login text, person_role text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE target text; r text;
BEGIN
  IF NOT (rk_in('rk_admin') OR rk_installer()) THEN
    RAISE EXCEPTION USING ERRCODE = 'RK003', MESSAGE = 'only an administrator gives a login its role';
  END IF;
  target := CASE person_role WHEN 'specialist' THEN 'rk_specialist' WHEN 'supervisor' THEN 'rk_supervisor'
                             WHEN 'lead' THEN 'rk_lead' WHEN 'admin' THEN 'rk_admin' END;
  IF target IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'RK002', MESSAGE = format('%L is not a role (specialist, supervisor, lead, admin)', person_role);
  END IF;
  IF login !~ '^[a-z_][a-z0-9_.-]{0,62}$' THEN
    RAISE EXCEPTION USING ERRCODE = 'RK002',
      MESSAGE = format('%L is not a login name: lower-case letters, digits, _ . - (starting with a letter or _)', login);
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = login AND (rolsuper OR rolname LIKE 'rk\\_%' OR rolname LIKE 'pg\\_%')) THEN
    RAISE EXCEPTION USING ERRCODE = 'RK002', MESSAGE = format('%L is a reserved database role and cannot be a person''s login', login);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = login) THEN
    EXECUTE format('CREATE ROLE %I LOGIN', login);
  END IF;
  FOREACH r IN ARRAY ARRAY['rk_specialist', 'rk_supervisor', 'rk_lead', 'rk_admin'] LOOP
    IF r <> target AND pg_has_role(login, r, 'MEMBER') THEN
      EXECUTE format('REVOKE %I FROM %I', r, login);
    END IF;
  END LOOP;
  EXECUTE format('GRANT %I TO %I', target, login);
END $$;
"""

# The practices of each recorded rubric, so the database can tell a complete rating.
_RUBRIC_PRACTICES = """
CREATE TABLE rubric_practices (
    rubric_id text NOT NULL,
    version text NOT NULL,
    practice_id text NOT NULL,
    PRIMARY KEY (rubric_id, version, practice_id),
    FOREIGN KEY (rubric_id, version) REFERENCES rubrics (rubric_id, version)
);
ALTER TABLE rubric_practices ENABLE ROW LEVEL SECURITY;
CREATE POLICY rubric_practices_read ON rubric_practices FOR SELECT USING (true);
CREATE POLICY rubric_practices_record ON rubric_practices FOR INSERT WITH CHECK (rk_in('rk_specialist') OR rk_in('rk_supervisor'));
CREATE FUNCTION rk_rubric_practice_row() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
BEGIN
  -- a rubric's practices are recorded with the rubric, in the transaction that records it
  IF NOT rk_installer() AND NOT EXISTS (
       SELECT 1 FROM rubrics r WHERE r.rubric_id = NEW.rubric_id AND r.version = NEW.version
          AND r.xmin = pg_current_xact_id()::xid) THEN
    RAISE EXCEPTION USING ERRCODE = 'RK001', MESSAGE = 'a recorded rubric never changes; give an edited rubric a new version';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER rubric_practices_with_their_rubric BEFORE INSERT ON rubric_practices
  FOR EACH ROW EXECUTE FUNCTION rk_rubric_practice_row();
CREATE TRIGGER rubric_practices_no_change BEFORE UPDATE OR DELETE ON rubric_practices
  FOR EACH ROW EXECUTE FUNCTION rk_refuse('a recorded rubric never changes; give an edited rubric a new version');

"""


def _content_triggers() -> str:
    out = []
    for table in ("ratings", "scores", "traps", "goals", "goal_updates"):
        out.append(f"CREATE TRIGGER {table}_content BEFORE INSERT OR UPDATE OR DELETE ON {table}"
                   " FOR EACH ROW EXECUTE FUNCTION rk_content_row();")
    for table in ("ratings", "scores"):
        out.append(f"CREATE TRIGGER {table}_amended_copy BEFORE INSERT OR UPDATE ON {table}"
                   " FOR EACH ROW EXECUTE FUNCTION rk_amended_copy();")
    for table in ("signatures", "reviews", "ratings", "scores", "traps", "goals", "goal_updates", "sessions", "people"):
        out.append(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
                   " FOR EACH STATEMENT EXECUTE FUNCTION rk_refuse('records are never truncated');")
    return "\n".join(out)


def _v1_team_schema(conn) -> None:
    # made by the installer, then handed over: tables to rk_owner (held to the policies by
    # FORCE ROW LEVEL SECURITY), functions and the lead's views to rk_system (BYPASSRLS)
    run = conn.raw.execute
    run(_TABLES)
    run(_FUNCTIONS)
    run(_TRIGGERS.replace("{meaning}", MEANING.replace("'", "''")))
    run(_RUBRIC_PRACTICES)
    run(_GRANT_LOGIN)
    run(_content_triggers())
    run(_POLICIES)
    for table in _PARTY_TABLES:
        run(_PARTY_POLICIES.format(t=table))
    run(_MORE_POLICIES)
    run(_VIEWS)
    for table in _ALL_TABLES:
        run(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        run(f"ALTER TABLE {table} OWNER TO rk_owner")
    for view in ("signed_consensus", "team_summary", "team_followups", "team_calibration"):
        run(f"ALTER VIEW {view} OWNER TO rk_system")
    for (signature,) in conn.raw.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = 'public' AND (p.proname LIKE 'rk\\_%' OR p.proname = 'rapportkit_meaning')").fetchall():
        run(f"ALTER FUNCTION {signature} OWNER TO rk_system")
    run(_GRANTS)


# v2: the supervision meeting's length and kind (the supervision log). The signed content
# gains a line for each only when it is recorded (rapportkit.model.content_lines), so the
# signatures given before keep verifying: rk_content_digest is v1's with those two lines.
_MEETING_LINES = """
    UNION ALL
    SELECT concat_ws('|', 'meeting_minutes', meeting_minutes)
      FROM reviews WHERE review_id = review AND revision = rev AND meeting_minutes IS NOT NULL
    UNION ALL
    SELECT concat_ws('|', 'meeting_kind', meeting_kind)
      FROM reviews WHERE review_id = review AND revision = rev AND meeting_kind IS NOT NULL
  ) lines
$$;"""


def _content_digest_v2() -> str:
    """v1's ``rk_content_digest`` (taken from :data:`_FUNCTIONS`, so there is one text of
    it), replaced in place with the meeting lines added."""
    start = _FUNCTIONS.index("CREATE FUNCTION rk_content_digest(")
    end = _FUNCTIONS.index("  ) lines\n$$;", start)
    return ("CREATE OR REPLACE FUNCTION" + _FUNCTIONS[start + len("CREATE FUNCTION"):end].rstrip("\n")
            + _MEETING_LINES)


# Who records the meeting, and what a change of it does: the supervisor records it (like
# traps and goals); a change voids the signatures given on the revision (as rk_content_row
# does for the other content); a signed revision's never changes. rk_review_row runs after
# this (triggers fire by name), so it sees the voided signatures.
_MEETING_ROW = """
CREATE FUNCTION rk_meeting_row() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.status = 'signed' THEN
    RAISE EXCEPTION USING ERRCODE = 'RK001', MESSAGE = 'a signed revision never changes; amend it with a reason';
  END IF;
  IF NOT rk_installer() AND rk_party_of(NEW.session_id, NEW.supervisor_id) IS DISTINCT FROM 'supervisor' THEN
    RAISE EXCEPTION USING ERRCODE = 'RK003',
      MESSAGE = 'the supervisor records the length and kind of the supervision meeting';
  END IF;
  IF TG_OP = 'UPDATE' THEN
    UPDATE signatures SET voided_at = rk_now()
     WHERE review_id = OLD.review_id AND revision = OLD.revision AND voided_at IS NULL;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER reviews_meeting_insert BEFORE INSERT ON reviews FOR EACH ROW
  WHEN (NEW.meeting_minutes IS NOT NULL OR NEW.meeting_kind IS NOT NULL) EXECUTE FUNCTION rk_meeting_row();
CREATE TRIGGER reviews_meeting_change BEFORE UPDATE ON reviews FOR EACH ROW
  WHEN ((OLD.meeting_minutes, OLD.meeting_kind) IS DISTINCT FROM (NEW.meeting_minutes, NEW.meeting_kind))
  EXECUTE FUNCTION rk_meeting_row();
ALTER FUNCTION rk_meeting_row() OWNER TO rk_system;
REVOKE EXECUTE ON FUNCTION rk_meeting_row() FROM PUBLIC;

-- the review row's own content (date, supervisor, rubric, reason) is signed content too:
-- a change voids the signatures already given, as a change of its other rows does
CREATE FUNCTION rk_review_content_row() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE signatures SET voided_at = rk_now()
   WHERE review_id = OLD.review_id AND revision = OLD.revision AND voided_at IS NULL;
  RETURN NEW;
END $$;
CREATE TRIGGER reviews_content_change BEFORE UPDATE ON reviews FOR EACH ROW
  WHEN ((OLD.review_date, OLD.supervisor_id, OLD.rubric_id, OLD.rubric_version, OLD.amend_reason)
        IS DISTINCT FROM (NEW.review_date, NEW.supervisor_id, NEW.rubric_id, NEW.rubric_version, NEW.amend_reason))
  EXECUTE FUNCTION rk_review_content_row();
ALTER FUNCTION rk_review_content_row() OWNER TO rk_system;
REVOKE EXECUTE ON FUNCTION rk_review_content_row() FROM PUBLIC;
"""


def _v2_meeting_length_and_kind(conn) -> None:
    run = conn.raw.execute
    run("ALTER TABLE reviews"
        " ADD COLUMN meeting_minutes integer CHECK (meeting_minutes BETWEEN 5 AND 480),"
        " ADD COLUMN meeting_kind text CHECK (meeting_kind IN ('individual', 'group'))")
    run(_content_digest_v2())  # keeps its owner (rk_system) and its grants
    run(_MEETING_ROW)


MIGRATIONS: tuple[Callable, ...] = (_v1_team_schema, _v2_meeting_length_and_kind)
SCHEMA_VERSION = len(MIGRATIONS)


def expected_policies() -> set[tuple[str, str]]:
    """(table, policy) for every policy the schema creates: what ``check`` expects to find."""
    import re

    text = _POLICIES + _MORE_POLICIES + _RUBRIC_PRACTICES + "".join(_PARTY_POLICIES.format(t=t) for t in _PARTY_TABLES)
    return {(table, name) for name, table in re.findall(r"CREATE POLICY (\w+) ON (\w+)", text)}


def safeguard_problems(conn) -> list[str]:
    """What is missing of the database's own safeguards: row-level security (enabled and
    forced) on every table, and every policy the schema creates. Empty when intact."""
    problems = []
    rows = conn.execute(
        "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class"
        " WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'").fetchall()
    state = {name: (enabled, forced) for name, enabled, forced in rows}
    for table in _ALL_TABLES:
        if state.get(table) != (True, True):
            problems.append(f"table {table} is not held to row-level security (changed outside rapportkit?); as "
                            f"the installer: ALTER TABLE {table} ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY")
    present = {tuple(r) for r in conn.execute("SELECT tablename, policyname FROM pg_policies WHERE schemaname = 'public'")}
    for table, name in sorted(expected_policies() - present):
        problems.append(f"policy {name} on {table} is missing (dropped outside rapportkit?); restore the database "
                        "from its last good pg_dump, or re-create the policy from rapportkit/pg_schema.py")
    return problems


def ensure_roles(conn) -> None:
    """Create the group roles if they are missing (idempotent; needs CREATEROLE)."""
    conn.raw.execute(_ROLES_SQL)


def schema_version(conn) -> int:
    """The version recorded in ``schema_version`` (0 for a database without our tables)."""
    exists = conn.execute("SELECT to_regclass('public.schema_version') IS NOT NULL").fetchone()[0]
    if not exists:
        return 0
    return conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0


def migrate(conn, where: str) -> int:
    """Bring the schema to :data:`SCHEMA_VERSION` in one transaction; returns the version
    found. Needs the installer's connection (a superuser or a member of ``rk_owner`` with
    CREATEROLE) when anything is missing."""
    from .pg import transaction

    found = schema_version(conn)
    if found > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{where} has schema version {found}, but this rapportkit understands up to {SCHEMA_VERSION}. "
            "Upgrade rapportkit (pip install -U rapportkit) to open it; nothing was changed."
        )
    if found == SCHEMA_VERSION:
        return found
    installer = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = session_user").fetchone()[0]
    if not installer:
        raise AccessError(
            f"{where} is not set up for rapportkit (schema version {found} of {SCHEMA_VERSION}); the "
            "administrator who installs it runs `rapportkit team init --db URL` as a PostgreSQL superuser (for example the postgres account)"
        )
    ensure_roles(conn)  # roles are cluster-wide; creating them is idempotent
    with transaction(conn):
        conn.execute("SELECT pg_advisory_xact_lock(7261)")
        found = schema_version(conn)
        for number in range(found + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[number - 1](conn)
            conn.execute("UPDATE schema_version SET version = ?", (number,))
    return found


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
