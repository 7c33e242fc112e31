"""The package's shape: light import, consistent environment files, one-way imports."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _modules_loaded_by(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_import_rapportkit_pulls_in_neither_matplotlib_nor_ipywidgets():
    loaded = _modules_loaded_by("import rapportkit, rapportkit.store, rapportkit.model")
    assert "rapportkit.store" in loaded  # the probe itself works
    for heavy in ("matplotlib", "ipywidgets", "pandas", "IPython"):
        assert heavy not in loaded, f"import rapportkit loaded {heavy}"


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def test_environment_yml_matches_pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r): r.replace(" ", "") for r in project["dependencies"]}
    listed = {}
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        m = re.match(r"\s*-\s+([A-Za-z0-9_.-]+)(.*)$", line)
        if m and m.group(1) not in ("pip", "python", "-e"):
            listed[m.group(1).lower()] = (m.group(1) + m.group(2)).replace(" ", "")
    assert set(listed) == set(wanted), set(listed) ^ set(wanted)
    for name, spec in wanted.items():
        assert listed[name].lower() == spec.lower(), f"{name}: {listed[name]} vs {spec}"
    assert re.search(r"python>=3\.11", (ROOT / "environment.yml").read_text())
    assert project["requires-python"] == ">=3.11"


# rubric → model → store → frames → analysis → plots → ui: a module imports only from its left.
LAYERS = {
    "errors": 0, "files": 0, "privacy": 0, "stats": 0, "rubric": 1, "model": 2, "db": 3, "migrations": 3,
    "audit": 3, "store": 3, "pg": 3, "pg_schema": 3, "pgcluster": 3, "screen": 2, "demo": 3, "transfer": 3,
    "revisions": 2, "frames": 4, "aggregates": 4, "analysis": 5, "report": 6, "supervision_log": 6,
    "roster": 9, "hub": 9,
    "report_layout": 6,
    "exports": 6, "plots": 6, "ui": 7, "serve": 8, "cli": 9,
}


def _rapportkit_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level and not node.module:
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rapportkit."):
            found.add(node.module.split(".")[1])
    return found


def test_imports_flow_one_way():
    package = ROOT / "rapportkit"
    checked = 0
    for path in package.rglob("*.py"):
        rel = path.relative_to(package).parts
        top = rel[0].removesuffix(".py")
        if top in ("__init__", "__main__") or path.suffix != ".py":
            continue
        assert top in LAYERS, f"rapportkit/{rel[0]} has no layer in LAYERS: say where it sits in the import order"
        for target in _rapportkit_imports(path):
            if path.parent != package:  # inside a subpackage, relative names are siblings
                continue
            if target in LAYERS:
                checked += 1
                assert LAYERS[target] <= LAYERS[top], f"{path.relative_to(ROOT)} imports {target} (a later layer)"
    assert checked > 10


def test_notebooks_have_a_kernelspec_and_no_stored_errors():
    notebooks = sorted((ROOT / "workbooks").rglob("*.ipynb"))
    assert notebooks
    for nb in notebooks:
        text = nb.read_text()
        assert '"kernelspec"' in text, nb
        assert '"output_type": "error"' not in text, nb


def test_make_honours_port_for_the_lab_and_the_dashboards():
    import subprocess

    def recipe(*args: str) -> str:
        return subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout

    assert "serve --db data/rapportkit.db --port 9001" in recipe("dashboard", "PORT=9001")
    assert "lab --db data/rapportkit.db --port 9002" in recipe("run", "PORT=9002")
    assert "serve --db data/rapportkit.db --port 8866" in recipe("dashboard")
    assert "lab --db data/rapportkit.db --port 8888" in recipe("run")
