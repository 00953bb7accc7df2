"""The settings module read afresh with exactly the environment given, in this process.

`config/settings.py` is executed again as a new module (the one Django runs on is left alone), with
`os.environ` replaced by the environment given for the duration; what it raises is what start-up
would raise. One test (test_settings.py) still starts a fresh interpreter and Django itself, to prove
the reading here stands for a real start-up; a fresh interpreter per environment cost about a second each.
"""

import os
import runpy
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

SETTINGS = Path(__file__).resolve().parents[2] / "config" / "settings.py"


def settings_with(env: dict[str, str]) -> SimpleNamespace:
    """The settings Plenary starts with under `env` (and nothing else), or the exception start-up raises."""
    with mock.patch.dict(os.environ, env, clear=True):
        return SimpleNamespace(**runpy.run_path(str(SETTINGS), run_name="config.settings_read"))
