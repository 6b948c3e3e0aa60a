"""`python -m servers.blender_primary --workdir DIR [...]`: one Blender worker (see entry.py)."""

import sys

from servers.blender_primary.entry import main

sys.exit(main())
