"""Tests for rapportkit.rubric: the packaged rubric, loading, and validation messages."""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import re
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapportkit import rubric as rubric_mod
from rapportkit.errors import RubricError, ValidationError
from rapportkit.rubric import ENV_VAR, Rubric, default_rubric, load_rubric, parse_rubric

DATA = Path(__file__).parent / "data" / "rubrics"
AGENCY = DATA / "agency_three_practices.toml"
DEFAULT_PATH = Path(str(resources.files("rapportkit") / "rubrics" / "peer_rapport.toml"))
PRACTICE_IDS = (
    "safe_environment", "active_listening", "empathy", "non_judgment", "authenticity",
    "collaborative_goals", "individuality_culture", "consistency", "boundaries",
)
TRAP_IDS = ("dominating", "judgement", "power_struggle", "less_follow_up")


# --- a tiny TOML writer, so broken rubrics are built from the real one -------------

def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k, ensure_ascii=False)


def _value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(v, list):
        return "[" + ", ".join(map(_value, v)) + "]"
    assert isinstance(v, dict)
    return "{" + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + "}"


def to_toml(data: dict) -> str:
    def is_array_of_tables(v: object) -> bool:
        return isinstance(v, list) and bool(v) and all(isinstance(e, dict) for e in v)

    lines = [f"{_key(k)} = {_value(v)}" for k, v in data.items()
             if not isinstance(v, dict) and not is_array_of_tables(v)]
    for k, v in data.items():
        if isinstance(v, dict):
            lines += [f"[{_key(k)}]"] + [f"{_key(a)} = {_value(b)}" for a, b in v.items()]
    for k, v in data.items():
        if is_array_of_tables(v):
            for entry in v:
                lines += [f"[[{_key(k)}]]"] + [f"{_key(a)} = {_value(b)}" for a, b in entry.items()]
    return "\n".join(lines) + "\n"


def default_data() -> dict:
    return tomllib.loads(DEFAULT_PATH.read_text(encoding="utf-8"))


def problems_of(data: dict) -> list[str]:
    with pytest.raises(RubricError) as info:
        parse_rubric(to_toml(data), "test.toml")
    return info.value.problems


def test_toml_writer_round_trips_the_default_rubric():
    assert parse_rubric(to_toml(default_data())) == default_rubric()


# --- the packaged rubric ------------------------------------------------------------

def test_default_rubric_has_the_nine_practices_in_order():
    r = default_rubric()
    assert (r.id, r.version, r.proficiency) == ("peer-rapport", "1.0", 3)
    assert r.practice_ids == PRACTICE_IDS


def test_default_scale_is_fixed_1_to_4_with_named_levels():
    r = default_rubric()
    assert r.scores == (1, 2, 3, 4)
    assert [lv.label for lv in r.levels] == ["Not yet evident", "Developing", "Proficient", "Exemplary"]
    assert r.not_observed_label == "Not observed"
    assert "no chance" in r.not_observed_meaning


@pytest.mark.parametrize("practice_id", PRACTICE_IDS)
def test_each_default_practice_is_complete(practice_id):
    p = default_rubric().practice(practice_id)
    assert p.title and p.definition
    assert 2 <= len(re.findall(r"[.!?](?:\s|$)", p.definition)) <= 3, "definition is 2–3 sentences"
    assert 3 <= len(p.indicators) <= 5
    assert all(len(i) > 20 for i in p.indicators)
    assert sorted(p.anchors) == [1, 2, 3, 4]
    assert len(set(p.anchors.values())) == 4, "each level has its own anchor"


def test_default_traps_are_the_four_named_traps_and_point_at_real_practices():
    r = default_rubric()
    assert r.trap_ids == TRAP_IDS
    for t in r.traps:
        assert t.title and t.description and t.practices
        assert set(t.practices) <= set(PRACTICE_IDS)
    assert "consistency" in r.trap("less_follow_up").practices


# --- loading ------------------------------------------------------------------------

def test_load_rubric_without_argument_gives_the_packaged_default(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert load_rubric() == default_rubric()
    assert load_rubric().source == str(DEFAULT_PATH.resolve())


def test_env_var_names_the_rubric_to_load(monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(AGENCY))
    assert load_rubric().id == "agency-warmline"
    assert default_rubric().id == "peer-rapport", "default_rubric ignores the env var"
    assert load_rubric(DEFAULT_PATH).id == "peer-rapport", "an explicit path wins"


def test_env_var_naming_a_missing_file_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "gone.toml"))
    with pytest.raises(RubricError, match=r"named by \$RAPPORTKIT_RUBRIC.*gone\.toml"):
        load_rubric()


def test_custom_rubric_with_other_ids_and_labels_loads():
    r = load_rubric(AGENCY)
    assert r.practice_ids == ("greeting", "listening", "closing")
    assert r.proficiency == 2
    assert r.label(2) == "Meets expectations"
    assert r.label(None) == "Not observed"
    assert r.anchor("closing", 4) == "Agrees a next step the caller chose."
    assert r.anchor("closing", None) == "The recording stopped before the end of the call."
    assert r.trap("rushing").practices == ("listening", "closing")


def test_rubric_without_traps_loads():
    data = default_data()
    del data["traps"]
    assert parse_rubric(to_toml(data)).traps == ()


def test_loading_is_cached_until_the_file_changes(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text(AGENCY.read_text(encoding="utf-8"), encoding="utf-8")
    first = load_rubric(path)
    assert load_rubric(str(path)) is first
    path.write_text(AGENCY.read_text(encoding="utf-8").replace("Warmline call", "Edited"), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    assert load_rubric(path).title == "Edited rapport"


def test_missing_file_names_the_path_and_how_to_choose_another(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(RubricError) as info:
        load_rubric(path)
    message = str(info.value)
    assert str(path) in message and "RAPPORTKIT_RUBRIC" in message and "--rubric" in message


def test_syntax_error_names_the_file_line_and_column(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('id = "x"\nversion = "1.0"\ntitle = "t"\nproficiency = = 3\n', encoding="utf-8")
    with pytest.raises(RubricError) as info:
        load_rubric(path)
    assert str(info.value).startswith(str(path))
    assert re.search(r"TOML syntax error: .*line 4, column \d+", info.value.problems[0])


def test_invalid_file_on_disk_is_named_in_the_error(tmp_path):
    path = tmp_path / "agency.toml"
    path.write_text(AGENCY.read_text(encoding="utf-8").replace("proficiency = 2", "proficiency = 9"),
                    encoding="utf-8")
    with pytest.raises(RubricError, match=re.escape(str(path))) as info:
        load_rubric(path)
    assert info.value.problems == ["proficiency must be one of the scale's scores 1–4 (got 9)"]


# --- validation: each kind of broken rubric, located precisely ----------------------

def _drop_anchor(d): del d["practices"][3]["anchors"]["2"]
def _typo_top(d): d["practises"] = d.pop("practices")
def _typo_practice(d): d["practices"][1]["indicator"] = d["practices"][1].pop("indicators")
def _duplicate(d): d["practices"][5]["id"] = "empathy"
def _wrong_type(d): d["practices"][1]["indicators"] = 5
def _bad_item(d): d["practices"][2]["indicators"][1] = 3
def _too_many(d): d["practices"][2]["indicators"] = ["look"] * 11
def _anchor_text(d): d["practices"][0]["anchors"] = "all good"
def _trap_practice(d): d["traps"][2]["practices"].append("empathyy")
def _proficiency(d): d["proficiency"] = 7
def _proficiency_float(d): d["proficiency"] = 3.0
def _empty(d): d["practices"] = []
def _no_practices(d): del d["practices"]
def _no_id(d): del d["id"]
def _float_version(d): d["version"] = 1.0
def _scale_level_5(d): d["scale"]["5"] = "Beyond"
def _scale_missing(d): del d["scale"]["3"]
def _bad_practice_id(d): d["practices"][0]["id"] = "Safe Environment"
def _empty_title(d): d["traps"][1]["title"] = "  "
def _dup_trap(d): d["traps"][3]["id"] = "dominating"
def _practices_table(d): d["practices"] = {}
def _trap_practices_text(d): d["traps"][0]["practices"] = ["empathy", 2]
def _no_indicators(d): d["practices"][8]["indicators"] = []


BROKEN = [
    (_drop_anchor, "practices[3] (id 'non_judgment'): anchors is missing level 2"),
    (_typo_top, "unknown key 'practises' (did you mean 'practices'?)"),
    (_typo_practice, "practices[1] (id 'active_listening'): unknown key 'indicator' (did you mean 'indicators'?)"),
    (_duplicate, "practices[5]: duplicate id 'empathy' (first at practices[2])"),
    (_wrong_type, "practices[1] (id 'active_listening'): indicators must be a list of 1–10 strings, not an integer"),
    (_bad_item, "practices[2] (id 'empathy'): indicators[1] must be a non-empty string, not an integer"),
    (_too_many, "practices[2] (id 'empathy'): indicators must be a list of 1–10 strings, not a list of 11 items"),
    (_anchor_text, "practices[0] (id 'safe_environment'): anchors must be a table with keys \"1\" to \"4\", not a string"),
    (_trap_practice, "traps[2] (id 'power_struggle'): practices names unknown practice 'empathyy' (did you mean 'empathy'?)"),
    (_proficiency, "proficiency must be one of the scale's scores 1–4 (got 7)"),
    (_proficiency_float, "proficiency must be one of the scale's scores 1–4 (got 3.0)"),
    (_empty, "practices must list at least one practice (found none)"),
    (_no_practices, "missing required key 'practices' (add a [[practices]] table per practice)"),
    (_no_id, "missing required key 'id'"),
    (_float_version, 'version must be a non-empty string, not a float (put it in quotes: version = "1.0")'),
    (_scale_level_5, "scale: unknown key '5' (expected 1, 2, 3, 4, not_observed, not_observed_meaning)"),
    (_scale_missing, "scale is missing level 3"),
    (_bad_practice_id, "practices[0]: id 'Safe Environment' must use only lowercase letters, digits and '_', starting with a letter"),
    (_empty_title, "traps[1] (id 'judgement'): title must be a non-empty string, not an empty string"),
    (_dup_trap, "traps[3]: duplicate id 'dominating' (first at traps[0])"),
    (_practices_table, "practices must be a list of tables ([[practices]]), not a table"),
    (_trap_practices_text, "traps[0] (id 'dominating'): practices must be a list of practice ids, not a list containing an integer"),
    (_no_indicators, "practices[8] (id 'boundaries'): indicators must be a list of 1–10 strings, not an empty list"),
]


@pytest.mark.parametrize(("mutate", "expected"), BROKEN, ids=[m.__name__.lstrip("_") for m, _ in BROKEN])
def test_broken_rubric_is_rejected_with_a_located_message(mutate, expected):
    data = default_data()
    mutate(data)
    assert expected in problems_of(data)


def test_every_problem_is_reported_at_once():
    data = default_data()
    _drop_anchor(data)
    _proficiency(data)
    _trap_practice(data)
    data["titel"] = "typo"
    with pytest.raises(RubricError) as info:
        parse_rubric(to_toml(data), "agency.toml")
    assert info.value.problems == [
        "unknown key 'titel' (did you mean 'title'?)",
        "proficiency must be one of the scale's scores 1–4 (got 7)",
        "practices[3] (id 'non_judgment'): anchors is missing level 2",
        "traps[2] (id 'power_struggle'): practices names unknown practice 'empathyy' (did you mean 'empathy'?)",
    ]
    assert str(info.value).startswith("agency.toml is not a valid rubric (4 problem(s))")


def test_rubric_error_is_a_value_error_naming_its_source():
    with pytest.raises(ValueError) as info:
        parse_rubric("id = 3", "mine.toml")
    assert isinstance(info.value, RubricError) and info.value.source == "mine.toml"


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_any_text_loads_or_raises_rubric_error(text):
    try:
        parse_rubric(text)
    except RubricError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)


@settings(max_examples=150, deadline=None)
@given(
    index=st.integers(0, len(PRACTICE_IDS) - 1),
    key=st.sampled_from(["title", "definition", "indicators", "anchors", "not_observed"]),
    value=st.one_of(
        st.text(max_size=20), st.integers(), st.booleans(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.lists(st.one_of(st.text(max_size=10), st.integers()), max_size=12),
        st.dictionaries(st.sampled_from(["1", "2", "3", "4", "5", "x"]),
                        st.one_of(st.text(max_size=10), st.integers()), max_size=6),
    ),
)
def test_a_bad_practice_field_is_reported_at_that_practice(index, key, value):
    data = default_data()
    data["practices"][index][key] = value
    try:
        r = parse_rubric(to_toml(data))
    except RubricError as exc:
        where = f"practices[{index}] (id '{PRACTICE_IDS[index]}'): "
        assert all(p.startswith(where) for p in exc.problems), exc.problems
    else:
        assert r.practice_ids == PRACTICE_IDS


# --- the Rubric object --------------------------------------------------------------

def test_rubric_objects_are_immutable():
    r = default_rubric()
    p = r.practice("empathy")
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.proficiency = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.title = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        p.anchors[3] = "changed"  # type: ignore[index]
    assert isinstance(r.practices, tuple) and isinstance(p.indicators, tuple)
    assert isinstance(r.trap("dominating").practices, tuple)
    assert hash(r) == hash(parse_rubric(DEFAULT_PATH.read_text(encoding="utf-8")))


def test_practice_built_from_mutable_inputs_is_still_immutable():
    anchors = {1: "a", 2: "b", 3: "c", 4: "d"}
    p = rubric_mod.Practice("x", "X", "Def.", ["i"], anchors)
    anchors[1] = "changed"
    assert p.anchors[1] == "a" and p.indicators == ("i",)


def test_unknown_practice_or_trap_names_the_choices():
    r = default_rubric()
    with pytest.raises(ValidationError) as info:
        r.practice("empathyy")
    assert str(info.value) == (
        "practice must be one of " + ", ".join(PRACTICE_IDS) + ", not 'empathyy' (did you mean 'empathy'?)"
    )
    assert isinstance(info.value, ValueError)
    with pytest.raises(ValidationError, match="trap must be one of dominating, .*, not 'bossy'"):
        r.trap("bossy")


def test_labels_and_anchors_by_score():
    r = default_rubric()
    assert r.label(3) == "Proficient" and r.label(None) == "Not observed"
    assert r.anchor("empathy", 1) == r.practice("empathy").anchors[1]
    assert r.anchor("empathy", None) == r.not_observed_meaning, "empathy has no own guidance"
    assert "first meeting" in r.anchor("consistency", None)
    with pytest.raises(ValidationError, match=r"'score' must be 1–4 or None \(got 5\) for practice 'empathy'"):
        r.anchor("empathy", 5)
    with pytest.raises(ValidationError, match=r"got 0"):
        r.label(0)


@pytest.mark.parametrize(("score", "valid"), [
    (1, True), (4, True), (None, True), (0, False), (5, False), (True, False), (2.0, False), ("3", False),
])
def test_is_valid_score(score, valid):
    assert default_rubric().is_valid_score(score) is valid


def test_not_observed_can_be_refused():
    assert default_rubric().is_valid_score(None, allow_not_observed=False) is False


# --- import hygiene -----------------------------------------------------------------

def test_rubric_module_imports_only_the_standard_library_and_errors():
    tree = ast.parse(Path(rubric_mod.__file__).read_text(encoding="utf-8"))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    outside = {n for n in names if n.split(".")[0] not in sys.stdlib_module_names and n != "__future__"}
    assert outside == {"rapportkit.errors"}


def test_importing_the_module_is_cheap():
    code = ("import sys, rapportkit.rubric; "
            "print(sorted(m for m in ('tomllib', 'difflib', 'pandas', 'numpy', 'matplotlib') if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(Path(rubric_mod.__file__).parents[1])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names_are_exported():
    assert set(rubric_mod.__all__) >= {"Rubric", "Practice", "Trap", "Level", "load_rubric",
                                       "parse_rubric", "default_rubric"}
    assert isinstance(default_rubric(), Rubric)


def test_file_that_is_not_utf8_text_is_rejected(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('title = "Café"\n'.encode("latin-1"))
    with pytest.raises(RubricError, match=r"(?s)latin1\.toml is not a valid rubric.*not UTF-8 text"):
        load_rubric(path)
