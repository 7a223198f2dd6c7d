"""`python -m bench.acoustic`: measure the acoustic generator and print its tables (see bench.acoustic)."""

from bench.acoustic import main

raise SystemExit(main())
