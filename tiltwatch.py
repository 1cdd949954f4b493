"""``python -m tiltwatch``: the same as the ``tiltwatch`` command (``tui.cli``)."""

import sys

from tui.cli import main

if __name__ == "__main__":
    sys.exit(main())
