"""`python -m hallbus`."""

import sys

from hallbus.cli import main

sys.exit(main())
