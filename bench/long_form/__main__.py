"""`python -m bench.long_form`: see bench/long_form/__init__.py."""

import sys

from bench.long_form import main

sys.exit(main())
