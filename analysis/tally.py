"""`python -m analysis.tally`: the tally command (`plenary-tally`) run from a checkout of Plenary."""

import sys

from plenary_tally.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
