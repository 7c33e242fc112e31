"""Execute the workbooks on a fresh demo database and keep only the checked outputs.

    .venv/bin/python tools/refresh_notebooks.py [NOTEBOOK ...]

Cells marked ``# NBVAL_CHECK_OUTPUT`` keep their outputs (nbval compares them in
``make test``); every other output and execution count is stripped, so the files in git
stay small and free of data. A cell that showed a form keeps, instead, the sentence that
says to run the notebook (:mod:`rapportkit.ui.not_running`).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from rapportkit.ui.not_running import WIDGET_VIEW, placeholder

ROOT = Path(__file__).resolve().parents[1]


def refresh(path: Path, db: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        if "NBVAL_CHECK_OUTPUT" not in cell.source:
            # where a form was, the sentence a notebook shows until it runs (not_running);
            # nbval wants an execution count on any cell with a stored output
            widget = any(WIDGET_VIEW in out.get("data", {}) for out in cell.outputs)
            cell.outputs = [nbformat.from_dict(placeholder())] if widget else []
            if not widget:
                cell.execution_count = None
    nb.metadata.pop("widgets", None)  # widget state holds rendered data; never keep it
    nbformat.write(nb, path)
    print(f"refreshed {path.relative_to(ROOT)}")


def main(argv: list[str]) -> None:
    paths = [Path(p).resolve() for p in argv] or sorted((ROOT / "workbooks").rglob("*.ipynb"))
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.db"
        from rapportkit.demo import load_demo
        from rapportkit.store import Store

        with Store(db, actor="demo") as store:
            load_demo(store)
        os.environ["RAPPORTKIT_DB"] = str(db)
        for path in paths:
            if ".ipynb_checkpoints" not in path.parts:
                refresh(path, db)


if __name__ == "__main__":
    main(sys.argv[1:])
