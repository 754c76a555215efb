"""`python -m dart` is the `dart` command."""

import sys

from dart.cli import main

sys.exit(main())
