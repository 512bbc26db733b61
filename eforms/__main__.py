"""``python -m eforms``."""

from __future__ import annotations

import sys

from eforms.cli import main

sys.exit(main())
