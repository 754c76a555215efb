"""DART's Kubernetes operator: DartRun -> ConfigMap, PVC, servers, Jobs and a truthful status.

    kopf run -m dart_operator --all-namespaces
    dart-operator                      # the same, configured by DART_* environment variables

Importing the package registers the kopf handlers (that is what `kopf run -m` relies on);
the desired-state modules (`desired`, `assess`, `conditions`, `jobs`, `servers`, ...) are
pure and import no kopf.
"""

from dart_operator import handlers  # noqa: F401 - registers the kopf handlers
