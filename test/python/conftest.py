"""pytest's set-up for mnkvm's Python tests (test/python): mininet-ext on
the path, as the bridge puts it there for a run (src/bridge/bridge.ts)."""

import os
import sys

sys.path.insert( 0, os.path.abspath( os.path.join(
    os.path.dirname( __file__ ), '..', '..', 'mininet-ext' ) ) )
