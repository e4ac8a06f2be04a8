"""`python -m rollflow …` (and `torchrun -m rollflow train …`): the rollflow command."""

import sys

from rollflow.cli import main

sys.exit(main())
