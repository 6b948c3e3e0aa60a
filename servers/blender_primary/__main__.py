"""`python -m servers.blender_primary --workdir DIR [...]`: one Blender worker (see entry.py)."""

import sys

from servers.blender_primary.entry import main
from servers.blender_primary.parent_watch import watch_parent

watch_parent()

sys.exit(main())
