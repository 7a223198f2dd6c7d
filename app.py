"""Start the browser app: `python3 app.py`, then open http://127.0.0.1:7860."""

import logging
import os
import threading

# Spinning OpenMP threads fight over the 2 cores when two generations run at once: let idle threads sleep.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from engine.ui.memory import limit_malloc_arenas

limit_malloc_arenas()  # before torch and gradio start their threads (see engine/ui/memory.py)

from engine.ui.blocks import QUEUE_SIZE, build_app, launch_options
from engine.ui.handlers import warm_up

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Models load while the page starts, so the first Generate shows progress at once.
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
    app = build_app()
    # A bounded queue: many users may wait; syntheses run one at a time (synthesis.LINE), the light events
    # (check, redraw, demos) two at a time.
    app.queue(default_concurrency_limit=2, max_size=QUEUE_SIZE).launch(
        **launch_options(
            host=os.environ.get("DIALOGUE_SYNTH_HOST", "127.0.0.1"),
            port=int(os.environ.get("DIALOGUE_SYNTH_PORT", "7860")),
        )
    )
