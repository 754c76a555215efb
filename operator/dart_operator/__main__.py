"""`python -m dart_operator` runs the operator, like `dart-operator`."""

from dart_operator.main import main

raise SystemExit(main())
