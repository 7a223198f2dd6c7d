"""`python -m engine ...` is the same as the `dialogue-synth` command."""

from engine.cli import main

raise SystemExit(main())
