"""Shared fixtures: seeded randomness and a short real utterance made with espeak-ng."""

import random
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

# The fixtures of the app's handler tests (tests/test_ui.py, tests/test_ui_inputs.py).
pytest_plugins = ["tests.ui_helpers"]


@pytest.fixture(autouse=True)
def _seed():
    random.seed(0)
    np.random.seed(0)
    try:
        import torch

        torch.manual_seed(0)
    except ImportError:
        pass


@pytest.fixture(scope="module")
def one_thread():
    """Torch on one thread for a module (`pytestmark = pytest.mark.usefixtures("one_thread")`): small models
    run fastest that way, and other jobs may share the cores. The previous count is restored after."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def espeak_to_wav(text: str, path: Path, voice: str = "en-us", speed: int = 160, pitch: int = 50) -> Path:
    """Speak `text` with espeak-ng into a 22.05 kHz mono wav file."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed: run `bash install.sh --dev`")
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(path), text],
        check=True,
        capture_output=True,
    )
    return path


@pytest.fixture
def speech_wav(tmp_path) -> Path:
    """About 3 s of English speech."""
    return espeak_to_wav(
        "The quick brown fox jumps over the lazy dog, and then it runs away.", tmp_path / "speech.wav"
    )
