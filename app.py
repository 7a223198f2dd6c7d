"""Start the browser app: `python3 app.py`, then open http://127.0.0.1:7860."""

import os

from engine.ui.blocks import build_app

if __name__ == "__main__":
    app = build_app()
    # A bounded queue: many users may wait, two generations run at once on this 2-core machine.
    app.queue(default_concurrency_limit=2, max_size=32).launch(
        server_name=os.environ.get("DIALOGUE_SYNTH_HOST", "127.0.0.1"),
        server_port=int(os.environ.get("DIALOGUE_SYNTH_PORT", "7860")),
    )
