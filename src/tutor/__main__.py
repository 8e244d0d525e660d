"""``python -m tutor``: the same as the ``tutor`` command (see :mod:`tutor.cli`)."""

import sys

from tutor.cli import main

sys.exit(main())
