"""Root pytest set-up shared by the unit tests and the notebook runs (nbval).

Notebooks read ``RAPPORTKIT_DB``; before anything runs, point it at a fresh demo
database in a temporary folder so the tests never touch ``data/rapportkit.db``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def pytest_configure(config):
    if os.environ.get("RAPPORTKIT_TEST_DB"):
        os.environ["RAPPORTKIT_DB"] = os.environ["RAPPORTKIT_TEST_DB"]
        return
    from rapportkit.demo import load_demo
    from rapportkit.store import Store

    folder = Path(tempfile.mkdtemp(prefix="rapportkit-test-"))
    db = folder / "demo.db"
    with Store(db, actor="demo") as store:
        load_demo(store)
    os.environ["RAPPORTKIT_DB"] = os.environ["RAPPORTKIT_TEST_DB"] = str(db)
    os.environ.setdefault("RAPPORTKIT_USER", "pytest")
    os.environ.setdefault("MPLBACKEND", "Agg")
