"""The tunable limits of ``rapportkit serve``, read from the environment.

``rapportkit serve`` passes its environment to Voilà, whose configuration
(``config/voila.py``) and websocket guard (``wsguard``) read these. They exist so an
administrator can loosen a limit for an unusual site and a test can shorten one to
seconds; the defaults are what the dashboards need.

======================== ========= ==========================================================
variable                 default   meaning
======================== ========= ==========================================================
RAPPORTKIT_CELL_TIMEOUT  120       seconds a dashboard cell may run *for a viewer* before the
                                   page shows "timed out" (time a preheated kernel spends
                                   waiting for its viewer does not count: see ``poolclock``)
RAPPORTKIT_WS_MAX_BYTES  1048576   largest websocket message a page may send its kernel
RAPPORTKIT_WS_RATE       20        messages per second a kernel takes from its websockets
                                   (all of them together), sustained
RAPPORTKIT_WS_BURST      200       messages a kernel takes at once above that rate
======================== ========= ==========================================================

:func:`check_environment` refuses a malformed value with a sentence (``rapportkit serve``
calls it before starting Voilà); :func:`read` never raises, because an exception inside
Voilà's configuration file would make Voilà skip the whole file, hardening included.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Setting", "SETTINGS", "read", "check_environment"]

log = logging.getLogger("rapportkit.serve")


@dataclass(frozen=True)
class Setting:
    """One limit: its environment variable, default and smallest sensible value."""

    env: str
    default: float
    minimum: float
    maximum: float
    integer: bool
    what: str

    def parse(self, text: str) -> float:
        """``text`` as this setting's value; ValueError with a sentence if it is not one."""
        try:
            value = float(text.strip())
        except ValueError:
            raise ValueError(f"{self.env} must be a number ({self.what}); got {text!r}") from None
        if not math.isfinite(value) or not self.minimum <= value <= self.maximum:
            raise ValueError(f"{self.env} must be between {self.minimum:g} and {self.maximum:g} "
                             f"({self.what}); got {text!r}")
        if self.integer:
            if value != int(value):
                raise ValueError(f"{self.env} must be a whole number ({self.what}); got {text!r}")
            return int(value)
        return value


SETTINGS: dict[str, Setting] = {s.env: s for s in (
    Setting("RAPPORTKIT_CELL_TIMEOUT", 120, 1, 24 * 3600, True,
            "seconds a dashboard cell may run for a viewer"),
    Setting("RAPPORTKIT_WS_MAX_BYTES", 1024 * 1024, 4096, 256 * 1024 * 1024, True,
            "largest websocket message from a page, in bytes"),
    Setting("RAPPORTKIT_WS_RATE", 20, 0.1, 100_000, False,
            "messages per second a kernel takes from its pages"),
    Setting("RAPPORTKIT_WS_BURST", 200, 1, 1_000_000, True,
            "messages a kernel takes at once from its pages"),
)}


def read(env_name: str, environ: Mapping[str, str] | None = None) -> float:
    """The value of the setting ``env_name``: from the environment, else its default.

    A malformed value is logged and the default used (never an exception: see the module
    docstring)."""
    setting = SETTINGS[env_name]
    text = (os.environ if environ is None else environ).get(env_name, "")
    if not text.strip():
        return setting.default
    try:
        return setting.parse(text)
    except ValueError as exc:
        log.error("%s; using the default %g", exc, setting.default)
        return setting.default


def check_environment(environ: Mapping[str, str] | None = None) -> None:
    """Raise ValueError naming the first malformed setting in ``environ``."""
    environ = os.environ if environ is None else environ
    for name, setting in SETTINGS.items():
        text = environ.get(name, "")
        if text.strip():
            setting.parse(text)
