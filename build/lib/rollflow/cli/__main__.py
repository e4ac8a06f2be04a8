import sys

from rollflow.cli import main

sys.exit(main())
