"""`dart-operator`: run the DART operator with settings from DART_* environment variables.

    DART_WATCH_NAMESPACES=research dart-operator     # one namespace
    dart-operator                                    # the whole cluster

Settings are validated before kopf starts, so a bad value is one line, not a traceback.
"""

from __future__ import annotations

import logging
import os
import sys

import kopf

from dart import logs
from dart_operator.settings import SettingsError, load_settings


def main(argv: list[str] | None = None) -> int:
    try:
        settings = load_settings(os.environ)
    except SettingsError as error:
        print(f"dart-operator: {error}", file=sys.stderr)
        return 2
    if not logs.configure(stage="operator"):  # DART_LOG_FORMAT=json: one JSON object a line
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    import dart_operator.handlers  # noqa: F401 - registers the handlers

    kopf.run(
        clusterwide=not settings.watch_namespaces,
        namespaces=settings.watch_namespaces,
        liveness_endpoint=settings.liveness_url,
    )
    return 0
