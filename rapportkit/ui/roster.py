"""The roster workbook's form, for the programme's administrator: who is in the team, add
someone, change or deactivate someone, assign specialists to supervisors.

It calls the same store functions as ``rapportkit people`` and ``rapportkit assign``
(:meth:`~rapportkit.store.Store.add_person`, :meth:`~rapportkit.store.Store.change_person`,
:meth:`~rapportkit.store.Store.assign`), so the rules — ids, logins, who may be whose
supervisor — are the store's, and every change is audited. On a team database the
database decides whether the connected person may change the roster at all.
"""

from __future__ import annotations

import datetime as dt

import ipywidgets as W

from ..model import Person, PersonRole
from .common import FormBase, css, esc, form_title, heading

__all__ = ["RosterForm"]

_ROLES = [("Specialist", "specialist"), ("Supervisor", "supervisor"), ("Programme lead", "lead"),
          ("Administrator", "admin")]
_NONE = ("— none —", "")
_CELL = "padding:3px 10px;border-bottom:1px solid #ddd;text-align:left"


def _text(description: str, placeholder: str = "") -> W.Text:
    return W.Text(description=description, placeholder=placeholder, style={"description_width": "9em"},
                  layout=W.Layout(width="28em"))


def _choice(description: str, options) -> W.Dropdown:
    return W.Dropdown(description=description, options=options, style={"description_width": "9em"},
                      layout=W.Layout(width="28em"))


class RosterForm(FormBase):
    """Display ``.widget``. ``today`` fixes the assignment's default first day (tests)."""

    def __init__(self, store, *, today: dt.date | None = None) -> None:
        super().__init__(store)
        self.today = today or dt.date.today()
        self.table = css(W.HTML(), "rk-roster-table")
        # add someone
        self.new_id = css(_text("Id", "e.g. sp-11"), "rk-roster-new-id")
        self.new_name = css(_text("Name", "as shown in the workbooks"), "rk-roster-new-name")
        self.new_role = css(_choice("Role", _ROLES), "rk-roster-new-role")
        self.new_login = css(_text("Login", "optional: their account on a team server"), "rk-roster-new-login")
        self.new_supervisor = css(_choice("Supervisor", [_NONE]), "rk-roster-new-supervisor")
        self.add_button = self.button("Add to the team", "rk-roster-add", self._add)
        # change someone
        self.who = css(_choice("Person", [_NONE]), "rk-roster-who")
        self.name = css(_text("Name"), "rk-roster-name")
        self.role = css(_choice("Role", _ROLES), "rk-roster-role")
        self.login = css(_text("Login", "their account on a team server"), "rk-roster-login")
        self.supervisor = css(_choice("Supervisor", [_NONE]), "rk-roster-supervisor")
        self.active = css(W.Checkbox(description="Active (untick when someone leaves; records are kept)",
                                     indent=False), "rk-roster-active")
        self.change_button = self.button("Save the changes", "rk-roster-change", self._change)
        # assign
        self.assign_supervisor = css(_choice("Supervisor", [_NONE]), "rk-roster-assign-supervisor")
        self.assign_specialist = css(_choice("Specialist", [_NONE]), "rk-roster-assign-specialist")
        self.starts = css(W.DatePicker(description="From", value=self.today, style={"description_width": "9em"}),
                          "rk-roster-from")
        self.ends = css(W.DatePicker(description="Until (optional)", style={"description_width": "9em"}),
                        "rk-roster-until")
        self.assign_button = self.button("Assign", "rk-roster-assign", self._assign)
        self.who.observe(self._fill, names="value")
        self.widget = css(W.VBox([
            form_title("The team"), self.table, self.status.widget,
            heading("Add someone"), self.new_id, self.new_name, self.new_role, self.new_login, self.new_supervisor,
            self.add_button,
            heading("Change someone"), self.who, self.name, self.role, self.login, self.supervisor, self.active,
            self.change_button,
            heading("Assign a specialist to a supervisor"), self.assign_supervisor, self.assign_specialist,
            self.starts, self.ends, self.assign_button,
        ], layout=W.Layout(max_width="900px")), "rk-form", "rk-roster-form")
        self.run(self._refresh)

    # ------------------------------------------------------------------ showing

    def _refresh(self) -> None:
        people = self.store.people()
        self.people = {p.id: p for p in people}
        names = {p.id: p.display_name for p in people}
        rows = "".join(
            f"<tr><td style='{_CELL}'>{esc(p.id)}</td><td style='{_CELL}'>{esc(p.display_name)}</td>"
            f"<td style='{_CELL}'>{esc(dict((v, k) for k, v in _ROLES)[p.role.value])}</td>"
            f"<td style='{_CELL}'>{esc(p.login or '—')}</td>"
            f"<td style='{_CELL}'>{esc(names.get(p.supervisor_id, p.supervisor_id) or '—')}</td>"
            f"<td style='{_CELL}'>{'yes' if p.active else 'no (left)'}</td></tr>" for p in people)
        self.table.value = (
            "<table style='border-collapse:collapse'><caption style='text-align:left'>Everyone in the team, by name"
            f" ({len(people)})</caption><tr>" + "".join(f"<th scope='col' style='{_CELL}'>{h}</th>" for h in
                                                        ("Id", "Name", "Role", "Login", "Supervisor", "Active"))
            + f"</tr>{rows}</table>" if people else "<p>Nobody in the team yet: add the first people below.</p>")
        everyone = [(f"{p.display_name} ({p.id})", p.id) for p in people]
        supervisors = [(f"{p.display_name} ({p.id})", p.id) for p in people if p.role is PersonRole.SUPERVISOR]
        specialists = [(f"{p.display_name} ({p.id})", p.id) for p in people if p.role is PersonRole.SPECIALIST]
        chosen = self.who.value
        self.who.unobserve(self._fill, names="value")  # a programmatic update is not a choice
        try:
            self.who.options = [_NONE, *everyone]
            self.who.value = chosen if chosen in self.people else ""
        finally:
            self.who.observe(self._fill, names="value")
        for box in (self.new_supervisor, self.supervisor, self.assign_supervisor):
            keep = box.value
            box.options = [_NONE, *supervisors]
            box.value = keep if keep in {v for _, v in supervisors} else ""
        keep = self.assign_specialist.value
        self.assign_specialist.options = [_NONE, *specialists]
        self.assign_specialist.value = keep if keep in {v for _, v in specialists} else ""
        self._fill()

    def _fill(self, _change=None) -> None:
        """Show the chosen person's details in the change section."""
        person = self.people.get(self.who.value)
        if person is None:
            self.name.value = self.login.value = ""
            self.supervisor.value, self.active.value = "", True
            return
        self.name.value, self.role.value = person.display_name, person.role.value
        self.login.value = person.login or ""
        self.supervisor.value = person.supervisor_id if person.supervisor_id in {
            v for _, v in self.supervisor.options} else ""
        self.active.value = person.active

    # ------------------------------------------------------------------ actions

    def _add(self) -> None:
        person = Person(self.new_id.value.strip(), self.new_name.value, self.new_role.value,
                        self.new_supervisor.value or None, True, self.new_login.value.strip() or None)
        self.store.add_person(person, reason="added in the roster workbook")
        self.new_id.value = self.new_name.value = self.new_login.value = ""
        self._refresh()
        self.saved(f"Added {person.display_name} ({person.id}) as {person.role.value}.")

    def _change(self) -> None:
        person = self.people.get(self.who.value)
        if person is None:
            self.status.error("Choose the person to change first.")
            return
        changed = self.store.change_person(
            person.id, reason="changed in the roster workbook", display_name=self.name.value, role=self.role.value,
            login=self.login.value.strip() or None, supervisor_id=self.supervisor.value or None,
            active=bool(self.active.value))
        self._refresh()
        self.saved(f"Saved {changed.display_name} ({changed.id})." if changed != person
                   else "Nothing had changed.")

    def _assign(self) -> None:
        if not self.assign_supervisor.value or not self.assign_specialist.value:
            self.status.error("Choose both the supervisor and the specialist.")
            return
        made = self.store.assign(self.assign_supervisor.value, self.assign_specialist.value,
                                 starts=self.starts.value or self.today, ends=self.ends.value)
        self._refresh()
        self.saved(f"{self.people[made.specialist_id].display_name} is assigned to "
                   f"{self.people[made.supervisor_id].display_name} from {made.starts}"
                   + (f" until {made.ends}." if made.ends else "."))
