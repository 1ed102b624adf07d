"""``python -m searchlib``: the same as the ``searchlib`` command."""

import sys

from searchlib.cli import main

sys.exit(main())
