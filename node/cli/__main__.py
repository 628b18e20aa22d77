"""`python -m node.cli`: the `conode` command."""

import sys

from .main import main

sys.exit(main())
