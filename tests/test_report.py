"""Printable PDFs (``rapportkit.report``): a review's supervision record, a specialist's
period summary and the team's reports, read back with pypdf.

One store per module: the demo team plus a review of sp-05 whose notes hold text that
matplotlib or a browser would interpret ($…$, tags, backslashes) and a note too long to
print whole; that review is then amended, so it has a signed revision 1 and an amended
revision 2.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import all_scores, build_review, goal
from rapportkit import analysis, model
from rapportkit.frames import goals_frame
from rapportkit.model import RaterRole, Rating
from rapportkit.report import progress_line, review_report, specialist_report
from rapportkit.store import Store

CLI = [sys.executable, "-m", "rapportkit.cli"]
TODAY = "2026-10-31"
MARKUP = "$x$ <script>alert(1)</script>"
MATHS = r"costs $100 or \alpha_1^2 & {braces} <b>bold</b> 50%"
GOAL_TEXT = "Keep a $5 <i>snack</i> budget for drop-in groups"
LONG = " ".join(f"Sentence {i} of a very long supervisor note about pacing." for i in range(1, 17)) + " ZEBRAFINISH"
REASON = "Corrected the rationale on $x$ <u>empathy</u>"
SIGNED_AT = dt.datetime(2026, 10, 30, 17, 0, tzinfo=dt.timezone.utc)


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)


def pages(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def flat(text: str) -> str:
    """Text with every run of whitespace (wrapped lines, too) as one space."""
    return " ".join(text.split())


def fragments(path: Path, page: int = 0) -> list[tuple[float, float, str]]:
    """``(x, y, text)`` of every piece of text drawn on a page, in points."""
    found = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            found.append((cm[4] + tm[4], cm[5] + tm[5], text))

    PdfReader(path).pages[page].extract_text(visitor_text=visit)
    return found


def tricky_review(rubric) -> model.Review:
    review = build_review(
        rubric, stage="revealed", review_id="rv-tricky", session_id="se-tricky", specialist="sp-05",
        supervisor="sv-01", review_date="2026-10-30", self_scores=all_scores(rubric, 3, empathy=2),
        self_notes={"active_listening": MATHS}, supervisor_notes={"boundaries": LONG},
        goals=[goal("go-tricky", "empathy", follow_up="2026-12-04", text=GOAL_TEXT,
                    actions="Bring receipts & a <table> of costs")],
    )
    consensus = Rating("sv-01", RaterRole.CONSENSUS, all_scores(rubric, 3), {"empathy": f"Quoted {MARKUP} verbatim"},
                       rubric.id, rubric.version)
    review = model.agree(review, consensus, rubric)
    review = model.sign(review, "specialist", at=SIGNED_AT)
    return model.sign(review, "supervisor", at=SIGNED_AT)


@pytest.fixture(scope="module")
def db(demo_db, tmp_path_factory, rubric) -> Path:
    path = tmp_path_factory.mktemp("report") / "team.db"
    shutil.copyfile(demo_db, path)
    with Store(path, actor="tester", rubric=rubric) as store:
        signed = tricky_review(rubric)
        store.save_review(signed)
        store.save_review(model.amend(signed, REASON))
    return path


@pytest.fixture(scope="module")
def store(db, rubric):
    with Store(db, readonly=True, rubric=rubric) as s:
        yield s


@pytest.fixture(scope="module")
def busy_review(store):
    """A signed demo review where the consensus moved away from the supervisor's score,
    a practice was not observed, goals were set and earlier goals got a verdict."""
    for review in store.reviews():
        c = review.consensus
        if c is None:
            continue
        moved = any(c.scores[p] != review.supervisor_rating.scores[p] for p in c.scores)
        if moved and None in c.scores.values() and review.goals and review.goal_updates:
            return review
    pytest.fail("the demo team has no review with all of these features any more")


@pytest.fixture(scope="module")
def busy_pdf(store, busy_review, tmp_path_factory) -> Path:
    return review_report(store, busy_review.id, tmp_path_factory.mktemp("busy") / "record.pdf")


@pytest.fixture(scope="module")
def tricky_pdf(store, tmp_path_factory) -> Path:
    return review_report(store, "rv-tricky", tmp_path_factory.mktemp("tricky") / "record.pdf")


# ----------------------------------------------------------------------------- one review


def test_record_prints_each_practice_with_its_three_scores(busy_pdf, busy_review, rubric):
    found = fragments(busy_pdf)
    top = next(y for x, y, t in found if t.strip() == "Consensus")
    header = sorted((x, t.strip()) for x, y, t in found if abs(y - top) < 1)
    assert [t for _, t in header] == ["Practice", "Self", "Supervisor", "Consensus", "Why the consensus"]
    bottom = next(y for x, y, t in found if t.strip() == "Evidence notes")
    body = sorted((f for f in found if bottom < f[1] < top - 1), key=lambda f: -f[1])  # top to bottom
    edges = [x for x, _ in header] + [float("inf")]

    def column(name):
        i = [t for _, t in header].index(name)
        return [t.strip() for x, y, t in body if edges[i] <= x < edges[i + 1]]

    def expected(rating):
        return ["n/o" if rating.scores[p] is None else str(rating.scores[p]) for p in rubric.practice_ids]

    assert column("Self") == expected(busy_review.self_rating)
    assert column("Supervisor") == expected(busy_review.supervisor_rating)
    assert column("Consensus") == expected(busy_review.consensus)
    text = flat(pages(busy_pdf)[0])
    for practice in rubric.practices:
        assert practice.title in text
    for rationale in busy_review.consensus.notes.values():
        assert rationale in text


def test_record_header_names_the_people_session_and_signatures(busy_pdf, busy_review, store):
    text = flat(pages(busy_pdf)[0])
    specialist, supervisor = store.person(busy_review.specialist_id), store.person(busy_review.supervisor_id)
    assert f"Specialist {specialist.display_name} ({specialist.id})" in text
    assert f"Supervisor {supervisor.display_name} ({supervisor.id})" in text
    session = busy_review.session
    assert f"Session {session.date:%Y-%m-%d} · {session.modality.value.replace('_', ' ')}" in text
    assert f"Review meeting {busy_review.review_date:%Y-%m-%d}" in text
    assert "Status signed · revision 1 of 1" in text
    signed = f"{busy_review.supervisor_signed_at.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} UTC"
    assert f"Signed by supervisor {signed}" in text


def test_record_lists_traps_goals_and_verdicts_and_draws_the_profile(busy_pdf, busy_review, store, rubric):
    text = flat(" ".join(pages(busy_pdf)))
    for trap in busy_review.traps:
        assert rubric.trap(trap).title in text
    for g in busy_review.goals:
        assert g.text in text and g.actions in text and f"{g.follow_up:%Y-%m-%d}" in text
    earlier = goals_frame(store, specialist=busy_review.specialist_id).set_index("goal_id")
    for update in busy_review.goal_updates:
        assert earlier.loc[update.goal_id, "text"] in text
    verdicts = re.findall(r"\(set \d{4}-\d{2}-\d{2}\) (met|carried|dropped)", text)
    assert verdicts == [u.status.value for u in busy_review.goal_updates]
    # the profile: its title and a legend entry per rater of this review
    day = f"{busy_review.review_date:%Y-%m-%d}"
    assert f"review of {day}" in text
    for role in ("self", "supervisor", "consensus"):
        assert f"{role}, {day}" in text


def test_pdf_is_a4_with_plain_metadata(busy_pdf, busy_review, store):
    reader = PdfReader(busy_pdf)
    assert len(reader.pages) >= 2
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    meta = reader.metadata
    assert meta.title == f"Supervision record {busy_review.id} revision 1"
    assert meta.author == "rapportkit"
    names = [p.display_name for p in store.people()] + [n for p in store.people() for n in p.display_name.split()]
    for value in meta.values():
        assert not any(name in str(value) for name in names)
    assert "page 1 of" in pages(busy_pdf)[0]


def test_user_text_is_printed_literally(tricky_pdf):
    text = flat(" ".join(pages(tricky_pdf)))
    assert f"Quoted {MARKUP} verbatim" in text
    assert MATHS in text
    assert GOAL_TEXT in text and "Bring receipts & a <table> of costs" in text
    assert f"Reason for amending {REASON}" in text


def test_a_long_note_is_shortened_with_a_mark(tricky_pdf):
    text = flat(" ".join(pages(tricky_pdf)))
    assert LONG[:120] in text           # it starts as written
    assert "ZEBRAFINISH" not in text    # the end is cut …
    assert re.search(r"Sentence \d+ of a very long[^…]*…", text)
    assert "shortened here; the full text is kept in the record" in text  # … and the page says so


def test_amended_review_shows_its_revision_and_the_signed_one_stays_printable(tricky_pdf, store, tmp_path):
    latest = flat(pages(tricky_pdf)[0])
    assert "Status amended · revision 2 of 2" in latest
    assert "Signed by specialist not signed yet" in latest
    assert "Revisions 1: signed, signed 2026-10-30 17:00 UTC; 2: amended" in latest
    first = flat(pages(review_report(store, "rv-tricky", tmp_path / "r1.pdf", revision=1))[0])
    assert "Status signed · revision 1 of 2" in first
    assert "Reason for amending" not in first


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(store, busy_review, tmp_path, monkeypatch):
    from matplotlib.backends.backend_pdf import PdfPages

    out = tmp_path / "record.pdf"
    out.write_bytes(b"yesterday's record")
    real, calls = PdfPages.savefig, []

    def failing(self, figure=None, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(self, figure, **kw)

    monkeypatch.setattr(PdfPages, "savefig", failing)
    with pytest.raises(OSError, match="disk full"):
        review_report(store, busy_review.id, out)
    assert out.read_bytes() == b"yesterday's record"
    assert [p.name for p in tmp_path.iterdir()] == ["record.pdf"]


# ----------------------------------------------------------------------------- one specialist


@pytest.fixture(scope="module")
def summary_pdf(store, tmp_path_factory) -> Path:
    return specialist_report(store, "sp-01", tmp_path_factory.mktemp("summary") / "sp-01.pdf", today=TODAY)


def test_summary_reports_trends_goals_and_alerts(summary_pdf, store, rubric):
    texts = pages(summary_pdf)
    # the tables, the trend grid, calibration gap and goal timeline, then every goal listed
    grid_page = next(i for i, t in enumerate(texts) if "consensus score by practice" in t)
    gap_page = next(i for i, t in enumerate(texts) if "self-rating minus" in flat(t))
    assert 1 <= grid_page < gap_page < len(texts) - 1
    assert all("Practice Goal Set Follow-up Status" in flat(t) for t in texts[gap_page + 1:])
    first = flat(" ".join(texts[:grid_page]))
    assert "Specialist Aster Moonwhistle (sp-01)" in first
    signed = [r for r in store.reviews("sp-01") if r.status.value == "signed"]
    assert f"Reviews {len(signed)} signed (meetings from {signed[0].review_date} to {signed[-1].review_date})" in first
    goals = goals_frame(store, specialist="sp-01")
    status = goals["status"].value_counts()
    late = (goals["status"].isin(["open", "carried"]) & (goals["follow_up"] < TODAY)).sum()
    assert (f"Goals {status.get('open', 0)} open · {late} overdue · {status.get('met', 0)} met · "
            f"{status.get('carried', 0)} carried · {status.get('dropped', 0)} dropped") in first
    for practice in rubric.practices:
        assert practice.title in first
    from rapportkit.frames import ratings_frame, traps_frame

    ratings = ratings_frame(store, specialist="sp-01", statuses=["signed"])
    trend = analysis.trend_summary(ratings)
    table = first.split("Direction", 1)[1].split("Rolling mean of the last 3", 1)[0]  # the trends table
    assert re.findall(r"\b(improving|steady|declining|too few reviews)\b", table) == list(trend["direction"])
    alerts = analysis.alerts(ratings, goals, traps_frame(store, specialist="sp-01"), today=TODAY)
    assert len(alerts) > 0
    for message in alerts["message"]:
        assert message in first
    assert "Aster Moonwhistle (sp-01): consensus score by practice" in texts[grid_page]
    assert "rolling mean of 3" in texts[grid_page]
    for practice in rubric.practices:
        assert practice.title.split()[0] in texts[grid_page]
    assert "most recent of" in flat(texts[gap_page]) and "goals, from the review that set them" in flat(texts[gap_page])


def test_summary_of_a_period_counts_only_its_reviews(store, tmp_path):
    out = specialist_report(store, "sp-03", tmp_path / "h1.pdf", since="2026-01-01", until="2026-06-30")
    text = flat(pages(out)[0])
    inside = [r for r in store.reviews("sp-03") if dt.date(2026, 1, 1) <= r.review_date <= dt.date(2026, 6, 30)]
    assert "Period 2026-01-01 to 2026-06-30" in text
    assert f"Reviews {len(inside)} signed (meetings from {inside[0].review_date} to {inside[-1].review_date})" in text
    pairs = sum(1 for r in inside for p, s in r.self_rating.scores.items()
                if s is not None and r.supervisor_rating.scores.get(p) is not None)
    assert f"Paired ratings {pairs}" in text
    assert "Overdue judged on 2026-06-30" in text


def test_progress_line_fills_in_proportion():
    assert progress_line(0, 8, "x") == "[....................] 0/8 x"
    assert progress_line(3, 8, "Aster Moonwhistle", width=8) == "[###.....] 3/8 Aster Moonwhistle"
    assert progress_line(8, 8, "done") == "[####################] 8/8 done"


# ----------------------------------------------------------------------------- command line


def test_cli_prints_a_review_without_touching_pyplot(db, busy_review, tmp_path):
    out = tmp_path / "record.pdf"
    code = textwrap.dedent(f"""
        import sys
        from rapportkit.cli import main
        status = main(["report", "--db", {str(db)!r}, "--review", {busy_review.id!r}, "--out", {str(out)!r}])
        print("pyplot imported:", "matplotlib.pyplot" in sys.modules)
        sys.exit(status)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"wrote {out}", "pyplot imported: False"]
    assert busy_review.goals[0].text in flat(" ".join(pages(out)))


def test_cli_unknown_review_exits_2_with_one_line_and_no_file(db, tmp_path):
    out = tmp_path / "out" / "report.pdf"
    proc = run("report", "--db", str(db), "--review", "rv-nope", "--out", str(out))
    assert proc.returncode == 2
    assert proc.stderr == "rapportkit report: there is no review 'rv-nope'\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, message", [
    (["--specialist", "sp-99"], "there is no specialist with id 'sp-99' (specialists: sp-01, sp-02"),
    (["--specialist", "sv-01"], "there is no specialist with id 'sv-01'"),
    (["--specialist", "sp-01", "--since", "2026-02-30"], "must be a date such as"),
    (["--specialist", "sp-01", "--since", "2026-06-01", "--until", "2026-01-01"], "must not be after"),
    (["--review", "rv-tricky", "--revision", "7"], "there is no review 'rv-tricky' revision 7"),
    (["--review", "rv-tricky", "--since", "2026-01-01"], "--since and --until go with --specialist or --team"),
    (["--team", "--revision", "1"], "--revision goes with --review"),
])
def test_cli_mistakes_exit_2_with_one_message_and_no_file(db, tmp_path, args, message, capsys, monkeypatch):
    from rapportkit.cli import main

    monkeypatch.setenv("RAPPORTKIT_DB", str(db))  # main() sets it from --db; restored afterwards
    out = tmp_path / "out" / "report.pdf"
    assert main(["report", "--db", str(db), *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rapportkit report: ") and message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_an_out_file_that_is_not_a_pdf(db, tmp_path, capsys, monkeypatch):
    from rapportkit.cli import main

    monkeypatch.setenv("RAPPORTKIT_DB", str(db))
    assert main(["report", "--db", str(db), "--specialist", "sp-01", "--out", str(tmp_path / "sp-01.png")]) == 2
    assert "must end in .pdf" in capsys.readouterr().err
    assert main(["report", "--db", str(db), "--team", "--out", str(tmp_path / "team.pdf")]) == 2
    assert "one PDF per specialist into a folder" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_cli_team_writes_a_summary_per_specialist_with_progress(db, store, tmp_path):
    out = tmp_path / "team"
    proc = run("report", "--db", str(db), "--team", "--since", "2026-05-01", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    team = store.people("specialist")
    assert len(team) == 8
    assert sorted(p.name for p in out.iterdir()) == [f"{p.id}.pdf" for p in team]
    lines = proc.stderr.splitlines()
    assert lines == [progress_line(i, 8, p.display_name) for i, p in enumerate(team, 1)]
    assert lines[2] == "[########............] 3/8 Cedar Lanternfish"
    assert proc.stdout.strip() == f"wrote 8 reports to {out}"
    for person in team:
        first = flat(PdfReader(out / f"{person.id}.pdf").pages[0].extract_text())
        assert f"Specialist {person.display_name} ({person.id})" in first
        assert "Period 2026-05-01 to the latest review" in first


def test_an_unsigned_record_says_draft_on_every_page_and_a_signed_one_does_not(store, busy_pdf, tricky_pdf):
    draft = pages(tricky_pdf)  # revision 2 is amended, not signed yet
    assert flat(draft[0]).count("Supervision record — DRAFT, not signed") == 1
    assert all("DRAFT — not signed" in flat(page) for page in draft)
    assert not any("DRAFT" in flat(page) for page in pages(busy_pdf))


def test_a_record_says_which_revision_it_prints_and_that_signatures_are_local(store, tricky_pdf, busy_pdf, tmp_path):
    assert "revision 2 of 2 (earlier revisions are kept; see Revisions below)" in flat(pages(tricky_pdf)[0])
    first = flat(pages(review_report(store, "rv-tricky", tmp_path / "r1.pdf", revision=1))[0])
    assert "revision 1 of 2 (a later revision replaces this one)" in first
    assert "(recorded on this computer, not verified)" in flat(pages(busy_pdf)[0])


def test_a_summary_explains_its_statistics_and_lists_every_goal_past_the_timeline(store, tmp_path):
    out = specialist_report(store, "sp-03", tmp_path / "s.pdf")
    text = flat(" ".join(pages(out)))
    shown = re.search(r"The 12 most recent of (\d+) goals", text)
    assert shown and int(shown.group(1)) > 12  # a long history is drawn readably…
    assert text.count("Reflect back what was heard") >= 3  # …and listed whole
    assert "that says the scores cluster, not that the figures contradict each other" in text
    assert "the direction is the trend, the alert above is the latest step" in text
    assert "Goals in this period" in text
