"""`python -m bench.e2e`: the end-to-end benchmark (see bench.e2e)."""

from bench.e2e import main

main()
