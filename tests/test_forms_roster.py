"""The administrator's roster form: add, change, deactivate, assign — through the same store
functions as the command line, on both backends, with every refusal said in the form."""

from __future__ import annotations

import datetime as dt

from form_helpers import TODAY
from rapportkit.model import PersonRole
from rapportkit.ui import RosterForm


def test_adding_changing_and_assigning_people(store):
    form = RosterForm(store, today=TODAY)
    assert "Wren Hollowbrook" in form.table.value and "(5)" in form.table.value
    form.new_id.value, form.new_name.value = "sp-9", "Juniper Quayle"
    form.new_role.value, form.new_supervisor.value, form.new_login.value = "specialist", "sv-2", "jquayle"
    form.add_button.click()
    assert form.status.kind == "ok" and "Added Juniper Quayle (sp-9)" in form.status.message, form.status.message
    added = store.person("sp-9")
    assert (added.role, added.supervisor_id, added.login, added.active) == (PersonRole.SPECIALIST, "sv-2", "jquayle",
                                                                           True)
    assert "Juniper Quayle" in form.table.value and "jquayle" in form.table.value
    # change: choosing the person fills the fields; a rename and leaving are saved
    form.who.value = "sp-9"
    assert form.name.value == "Juniper Quayle" and form.supervisor.value == "sv-2" and form.active.value
    form.name.value, form.active.value = "Juniper Quayle-Brook", False
    form.change_button.click()
    assert form.status.kind == "ok", form.status.message
    changed = store.person("sp-9")
    assert changed.display_name == "Juniper Quayle-Brook" and not changed.active and changed.login == "jquayle"
    # assign from a date: the supervisor in force today becomes theirs
    form.assign_supervisor.value, form.assign_specialist.value = "sv-1", "sp-3"
    form.starts.value = dt.date.today() - dt.timedelta(days=1)
    form.assign_button.click()
    assert form.status.kind == "ok" and "is assigned to Wren Hollowbrook" in form.status.message
    assert store.person("sp-3").supervisor_id == "sv-1"
    assert [(a.supervisor_id, a.specialist_id) for a in store.assignments("sp-3")] == [("sv-1", "sp-3")]
    actions = [e.action for e in store.audit_log("person", "sp-9")]
    assert actions == ["create", "update"]


def test_every_refusal_is_a_sentence_and_nothing_changes(store):
    form = RosterForm(store, today=TODAY)
    before = store.people()
    cases = [
        ("sp-1", "Someone Else", "specialist", "", "in the team already"),  # a taken id
        ("sp 9", "Bad Id", "specialist", "", "'id' must be"),
        ("sp-8", "", "specialist", "", "'display_name'"),
        ("sp-8", "Fenna Quickthorn", "specialist", "Not A Login!", "'login' must be"),
    ]
    for pid, name, role, login, expected in cases:
        form.new_id.value, form.new_name.value, form.new_role.value, form.new_login.value = pid, name, role, login
        form.add_button.click()
        assert form.status.kind == "error" and expected in form.status.message, (pid, form.status.message)
    form.assign_supervisor.value, form.assign_specialist.value = "", "sp-1"
    form.assign_button.click()
    assert form.status.kind == "error" and "Choose both" in form.status.message
    form.who.value = ""
    form.change_button.click()
    assert form.status.kind == "error" and "Choose the person" in form.status.message
    assert store.people() == before
