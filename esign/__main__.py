"""``python -m esign``."""

import sys

from esign.cli import main

sys.exit(main())
