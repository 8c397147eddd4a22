"""`python -m devices`: device diagnostics for installers."""

import sys

from devices.cli import main

sys.exit(main())
