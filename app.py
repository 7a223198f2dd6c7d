"""Start the browser app: `python3 app.py`, then open http://127.0.0.1:7860."""

import os

# Spinning OpenMP threads fight over the 2 cores when two generations run at once: let idle threads sleep.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from engine.ui.blocks import build_app  # after the OpenMP setting, before torch loads

if __name__ == "__main__":
    app = build_app()
    # A bounded queue: many users may wait, two generations run at once on this 2-core machine.
    app.queue(default_concurrency_limit=2, max_size=32).launch(
        server_name=os.environ.get("DIALOGUE_SYNTH_HOST", "127.0.0.1"),
        server_port=int(os.environ.get("DIALOGUE_SYNTH_PORT", "7860")),
    )
