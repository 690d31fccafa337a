"""A gunicorn worker, once veche is loaded, leaves what loading made out of the cyclic
collector and collects its young generation less often (decision 0143)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from gunicorn.config import KNOWN_SETTINGS

SRC = Path(__file__).resolve().parents[3] / "src"

WORKER = """
import gc, json
import django
django.setup()
from veche.config import gunicorn as config
before = (gc.get_freeze_count(), gc.get_threshold())
config.post_worker_init(None)
print(json.dumps([before, [gc.get_freeze_count(), gc.get_threshold()], config.GC_THRESHOLD]))
"""


def test_a_worker_freezes_what_loading_made_and_collects_less_often(tmp_path: Path) -> None:
    # gunicorn calls a config module's post_worker_init once the worker loaded the app.
    assert "post_worker_init" in {setting.name for setting in KNOWN_SETTINGS}
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        PYTHONPATH=str(SRC),
        DJANGO_SETTINGS_MODULE="veche.config.settings",
        VECHE_DATA_DIR=str(tmp_path),
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", WORKER], env=env, capture_output=True, text=True, check=True
    )
    (frozen_before, threshold_before), (frozen, threshold), wanted = json.loads(done.stdout)
    assert frozen_before == 0 and threshold_before == [700, 10, 10]
    # Django, veche's modules and settings: tens of thousands of objects.
    assert frozen > 20_000
    assert threshold == wanted and wanted[0] > threshold_before[0]
