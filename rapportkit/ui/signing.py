"""Records waiting for my signature: read an agreed record and sign it as yourself.

On a team's PostgreSQL store the person is the connected database role (``Store.me()``):
the list holds the reviews where they are the specialist or the supervisor, agreed or
amended, without their signature yet; *Sign* records their signature through the store,
and the database writes the signature row (their login, printed name, its own clock, the
SHA-256 of the content). Nobody can sign for anybody else: the form only signs in the
connected person's own role, and the database refuses any other.

On one computer (SQLite) nobody is connected as anyone, so the form asks who is signing
and says plainly that a signature here is recorded on this computer, not verified.

What is shown is what is signed: each record is read with the version it was listed at,
and a save over a record someone changed since is refused (the list then shows the record
as saved now, to read again).
"""

from __future__ import annotations

import ipywidgets as W

from ..errors import AccessError, ConflictError, RapportkitError, ReviewStateError, ValidationError
from ..model import AWAITING_SIGNATURES, MEANING, PersonRole, Review, ReviewStatus, sign
from .common import FormBase, css, esc, form_title, heading
from .record_html import reveal_html, summary_html
from .session_picker import session_label

__all__ = ["SignatureList", "WAITING"]

#: The states in which a record waits for signatures (the model's rule).
WAITING = AWAITING_SIGNATURES
_SIGNERS = (PersonRole.SPECIALIST, PersonRole.SUPERVISOR)
_LOCAL = ("On this computer a signature is the time it was given, <b>recorded on this computer, not "
          "verified</b>: whoever uses this computer could sign as anyone. A team database records who signed.")


class SignatureList(FormBase):
    """The records waiting for the connected person's signature; display ``form.widget``.

    Parameters
    ----------
    store
        The :class:`~rapportkit.store.Store`. On a team database the signer is the
        connected person (``store.me()``); on one computer the form asks who signs.
    signer
        On one computer: the id of the person to preselect as the signer (default: a
        specialist or supervisor whose id is the store's actor, ``$RAPPORTKIT_USER``).
        Ignored on a team database, where only the database says who you are.
    """

    def __init__(self, store, *, signer: str | None = None) -> None:
        super().__init__(store)
        self.names = {p.id: p.display_name for p in store.people()}
        #: the listed records waiting for the signer, by id, and the version each was read at
        self.waiting: dict[str, Review] = {}
        self.versions: dict[str, int] = {}
        #: the record shown (what *Sign* signs), or None
        self.review: Review | None = None
        self._quiet = False
        self.me = store.me() if store.team else None
        signers = [] if store.team else [p for p in store.people(active_only=True) if p.role in _SIGNERS]
        self.who = css(W.Dropdown(
            options=[("Choose who you are", "")] + [(f"{p.display_name} ({p.role.value})", p.id) for p in signers],
            value="", description="Signing as", style={"description_width": "initial"},
            layout=W.Layout(width="auto", display="none" if store.team else "flex")), "rk-signer")
        self.intro = css(W.HTML(), "rk-signer-intro")
        self.count = css(W.HTML(), "rk-waiting-count")
        self.choice = css(W.Select(options=[], value=None, rows=6, layout=W.Layout(width="min(100%, 60em)")),
                          "rk-waiting")
        self.meaning = css(W.HTML(), "rk-sign-meaning")
        self.record = css(W.HTML(), "rk-record-content")
        self.sign_button = self.button("Sign", "rk-sign", self._sign, "success")
        self.refresh_button = self.button("Look again for records to sign", "rk-refresh", self._refresh_asked, "")
        self.signed = css(W.HTML(), "rk-signed")
        self.widget = css(W.VBox([form_title("Records waiting for my signature"), self.intro, self.who, self.count,
                                  self.choice, W.HBox([self.refresh_button]), self.meaning, self.record,
                                  W.HBox([self.sign_button]), self.signed, self.status.widget],
                                 layout=W.Layout(max_width="1100px")), "rk-form", "rk-signature-list")
        self.who.observe(lambda _c: self.run(self._signer_chosen), "value")
        self.choice.observe(lambda _c: self._chosen(), "value")
        if not store.team:
            mine = signer or store.actor
            if mine in {v for _, v in self.who.options}:
                self.who.value = mine  # lists their records (observed above)
        self._introduce()
        if store.team or not self.who.value:
            self.run(self.refresh)

    # ------------------------------------------------------------------ who signs

    def signer(self):
        """The person signing: the connected person on a team database, else the one chosen."""
        if self.store.team:
            return self.me
        return self.store.person(self.who.value) if self.who.value else None

    def _introduce(self) -> None:
        if self.store.team:
            me = self.me
            if me is None:
                text = (f"You are connected as <b>{esc(self.store.actor)}</b>, who is nobody on the team's roster, "
                        "so nothing here is yours to sign. Ask your administrator to add your login.")
            else:
                text = (f"You are <b>{esc(me.display_name)}</b> ({esc(me.role.value)}), connected to the team "
                        f"database as <b>{esc(self.store.actor)}</b>. You can sign only as yourself: the database "
                        "records your login with your signature and refuses any other.")
        else:
            text = "Choose who you are: the records waiting for that person's signature are listed. " + _LOCAL
        self.intro.value = f"<p style='max-width:60em'>{text}</p>"

    def _signer_chosen(self) -> None:
        self.signed.value = ""
        self.refresh()

    @staticmethod
    def role_on(review: Review, person) -> PersonRole | None:
        """The role ``person`` signs ``review`` in (None if they are not one of its two parties)."""
        if person is None:
            return None
        if review.specialist_id == person.id:
            return PersonRole.SPECIALIST
        if review.supervisor_id == person.id:
            return PersonRole.SUPERVISOR
        return None

    def _waits_for(self, review: Review, person) -> bool:
        role = self.role_on(review, person)
        return (role is not None and review.status in WAITING and review.consensus is not None
                and getattr(review, f"{role.value}_signed_at") is None)

    # ------------------------------------------------------------------ the list

    def _read(self, review_id: str) -> tuple[Review, int]:
        """The latest revision of a review and the version it was read at (read until the
        version before and after agree, so the content shown is the version pinned)."""
        for _ in range(5):
            before = self.store.version(review_id)
            review = self.store.review(review_id)
            after = self.store.version(review_id, review.revision)
            if before == after:
                return review, after.number
        raise ReviewStateError(f"review {review_id} keeps changing as it is read; try again in a moment")

    def refresh(self, keep: str | None = None) -> None:
        """List the records waiting for the signer; show ``keep`` again (re-read) if it still waits."""
        person = self.signer()
        self.waiting, self.versions = {}, {}
        if person is not None and person.role in _SIGNERS:
            for review_id in self.store.awaiting_signature(person.id):
                review, version = self._read(review_id)
                if self._waits_for(review, person):  # it may have changed since the query
                    self.waiting[review.id], self.versions[review.id] = review, version
        self._quiet = True
        try:
            self.choice.options = [(self._label(r), r.id) for r in self.waiting.values()]
            self.choice.value = keep if keep in self.waiting else None
            self.choice.layout.display = "flex" if self.waiting else "none"  # no empty box: the count says why
        finally:
            self._quiet = False
        self._show(self.waiting.get(keep))
        self.count.value = self._count_text(person)

    def _refresh_asked(self) -> None:
        self.signed.value = ""
        self.refresh(keep=self.review.id if self.review is not None else None)
        self.tell(self._count_text_plain())

    def _label(self, review: Review) -> str:
        """One line per record (an option's text: shown as text, never as markup)."""
        spec = self.names.get(review.specialist_id, review.specialist_id)
        sup = self.names.get(review.supervisor_id, review.supervisor_id)
        amended = f", amended (revision {review.revision})" if review.status is ReviewStatus.AMENDED else ""
        return (f"{review.review_date:%d %b %Y} · {spec} with {sup} · session of {review.session.date:%d %b %Y}"
                f"{amended} · {review.id}")

    def _count_text_plain(self) -> str:
        n = len(self.waiting)
        if n == 0:
            return "Nothing is waiting for your signature."
        return f"{n} record{'s' if n != 1 else ''} wait{'s' if n == 1 else ''} for your signature: choose one to read it."

    def _count_text(self, person) -> str:
        if person is None:
            text = "" if self.store.team else "Choose who you are to see the records waiting for your signature."
        elif person.role not in _SIGNERS:
            text = (f"A review is signed by its specialist and its supervisor; as a {esc(person.role.value)}, "
                    "nothing waits for your signature.")
        else:
            text = esc(self._count_text_plain())
        return f"<p><b>{text}</b></p>" if text else ""

    # ------------------------------------------------------------------ one record

    def _chosen(self) -> None:
        if self._quiet:
            return
        self.signed.value = ""
        self._show(self.waiting.get(self.choice.value))
        self.sync()

    def _show(self, review: Review | None) -> None:
        self.review = review
        if review is None:
            self.meaning.value = self.record.value = ""
            self.sync()
            return
        person = self.signer()
        role = self.role_on(review, person)
        rubric = self.store.rubric_for(review.rubric_id, review.rubric_version)
        earlier = {g.id: g.text for g, _ in self.store.open_goals(review.specialist_id, exclude_review=review.id)}
        given = self.store.signatures(review.id, review.revision)
        how = ("The team database records your login "
               f"(<b>{esc(self.store.actor)}</b>), your printed name, its own clock and the SHA-256 of the record "
               "as it holds it; any later change to the record voids the signature." if self.store.team else _LOCAL)
        self.meaning.value = (
            f"<div style='max-width:60em;border-left:4px solid #2e7d32;padding:4px 10px;margin:8px 0'>"
            f"<p>You sign as the <b>{esc(role.value if role else '—')}</b> of this record, "
            f"<b>{esc(person.display_name if person else '')}</b>. Signing says: "
            f"<b class='rk-meaning-text'>“{esc(MEANING)}”</b>.</p><p><small>{how}</small></p></div>")
        session = session_label(review.session, review.status)
        reason = (f"<p><b>Why it was amended:</b> {esc(review.amend_reason)}</p>"
                  if review.status is ReviewStatus.AMENDED and review.amend_reason else "")
        self.record.value = (
            f"{reason}{summary_html(review, rubric, self.names, session, earlier, given)}"
            "<h4 style='margin:10px 0 4px'>The two blind ratings, as revealed</h4>"
            f"{reveal_html(review, rubric, self.names)}")
        self.sync()

    # ------------------------------------------------------------------ signing

    def _sign(self) -> None:
        review = self.review
        if review is None or review.id not in self.waiting:
            raise ValidationError("choose a record from the list first")
        person = self.signer()
        role = self.role_on(review, person)
        if role is None:
            raise ReviewStateError("only this record's specialist and supervisor sign it")
        try:
            self.store.save_review(sign(review, role), expected=self.versions[review.id])
        except ConflictError:
            raise  # FormBase.run hands it to on_conflict
        except AccessError as exc:
            self.status.error(f"Not signed: {str(exc).rstrip('.')}. Each person signs only as themselves, "
                              "from their own login.")
            return
        except RapportkitError as exc:
            self.status.error(f"Not signed: {str(exc).rstrip('.')}.")
            return
        saved = self.store.review(review.id, review.revision)
        given = self.store.signatures(review.id, review.revision)
        self.signed.value = ("<p><b>Signatures on this record, as the database keeps them:</b></p><ul>"
                             + "".join(f"<li class='rk-signature'>{esc(s.describe())}</li>" for s in given)
                             + "</ul>")
        other = "supervisor" if role is PersonRole.SPECIALIST else "specialist"
        done = ("Both have signed: the record is final." if saved.status is ReviewStatus.SIGNED
                else f"Now the {other} signs.")
        self.refresh(keep=None)  # the signed record leaves the list …
        self._show_signed(saved, given)  # … and stays on screen, with its signatures
        self.saved(f"Signed as the {role.value}. {done}")

    def _show_signed(self, review: Review, given) -> None:
        rubric = self.store.rubric_for(review.rubric_id, review.rubric_version)
        earlier = {g.id: g.text for g, _ in self.store.open_goals(review.specialist_id, exclude_review=review.id)}
        self.review = None  # nothing left to sign on screen
        self.meaning.value = ""
        self.record.value = summary_html(review, rubric, self.names, session_label(review.session, review.status),
                                         earlier, given)

    def on_conflict(self, exc: ConflictError) -> None:
        """The record changed since it was listed: nothing is signed; show it as saved now."""
        review = self.review
        why = str(exc).split(";")[0].rstrip(".")
        self.refresh(keep=review.id if review is not None else None)
        again = ("It is shown below as it is saved now: read it again, and sign if you agree."
                 if review is not None and review.id in self.waiting
                 else "It no longer waits for your signature.")
        self.status.error(f"Not signed: {why}, after this list was made. Nothing was signed. {again}")

    def sync(self) -> None:
        person = self.signer()
        review = self.review
        self.sign_button.disabled = (self.store.readonly or review is None or review.id not in self.waiting
                                     or self.role_on(review, person) is None)
        self.sign_button.description = (f"Sign as the {self.role_on(review, person).value}"
                                        if review is not None and self.role_on(review, person) else "Sign")
