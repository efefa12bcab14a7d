"""``%video emulator``: rehearse a notebook with no key against the built-in DashScope emulator.

The emulator runs on 127.0.0.1 inside the kernel; the magics are pointed at it and given
its rehearsal key for this process only. Polling is tightened to its short task times.
"""

from __future__ import annotations

import os
from typing import Any

from .credentials import API_KEY_ENV

_running: dict[str, Any] = {}


def start(magics: Any, pending_seconds: float = 1.0, running_seconds: float = 2.0) -> str:
    """Start (once) and point ``magics`` at the emulator; returns what was done, for the user."""
    from .emulator import EMULATOR_API_KEY, Emulator

    emulator = _running.get("emulator")
    if emulator is None:
        emulator = Emulator(pending_seconds=pending_seconds, running_seconds=running_seconds)
        emulator.start()
        _running["emulator"] = emulator
        _running["saved"] = (magics.base_url, magics.poll_min_seconds, magics.poll_max_seconds,
                             os.environ.get(API_KEY_ENV))
    magics.base_url = emulator.base_url
    magics.poll_min_seconds, magics.poll_max_seconds = 0.5, 1.0
    os.environ[API_KEY_ENV] = EMULATOR_API_KEY
    return (f"DashScope emulator running at {emulator.base_url} (rehearsal: nothing leaves this machine, "
            "nothing is billed). %video emulator stop goes back to the real service.")


def stop(magics: Any) -> str:
    emulator = _running.pop("emulator", None)
    if emulator is None:
        return "the emulator is not running"
    emulator.stop()
    magics.base_url, magics.poll_min_seconds, magics.poll_max_seconds, key = _running.pop("saved")
    if key is None:
        os.environ.pop(API_KEY_ENV, None)
    else:
        os.environ[API_KEY_ENV] = key
    return "emulator stopped; the magics use the real service again"
