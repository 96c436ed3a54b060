"""Run the command line as ``python -m fewpoints``."""

import sys

from fewpoints.cli import main

sys.exit(main())
