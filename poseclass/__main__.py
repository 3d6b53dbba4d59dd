"""``python -m poseclass``: the same as the ``poseclass`` command."""

import sys

from poseclass.cli import main

sys.exit(main())
