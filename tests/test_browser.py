"""The app in a real headless Chromium: edit a turn, give a voice, generate and get audio + heatmap; bad input
shows a readable error on the page. Needs Debian's chromium + chromium-driver and selenium (install.sh --dev)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.demos import list_demos

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
CHROMEDRIVER = shutil.which("chromedriver")
if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip(
        "browser test needs Debian's chromium and chromium-driver: run `bash install.sh --dev`",
        allow_module_level=True,
    )
webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium: `bash install.sh --dev`")
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

APP_START_TIMEOUT_S = 120  # python + gradio + torch import on 2 shared cores
GENERATE_TIMEOUT_S = 120
SHOTS = Path(os.environ.get("DIALOGUE_SYNTH_SCREENSHOTS", "/tmp"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory) -> Iterator[str]:
    """`python3 app.py` on a free port, served when the page answers."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("app") / "app.log"
    env = {**os.environ, "DIALOGUE_SYNTH_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + APP_START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"app.py exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"app.py did not serve {url} in {APP_START_TIMEOUT_S} s:\n{log_path.read_text()[-3000:]}"
                )
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,2400"):
        options.add_argument(arg)
    # Explicit driver path: selenium then never reaches for the network to fetch a driver.
    driver = webdriver.Chrome(service=webdriver.ChromeService(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def page(app_url: str, browser: webdriver.Chrome) -> webdriver.Chrome:
    browser.get(app_url)
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#generate-btn"))
    return browser


def _show_turns(driver: webdriver.Chrome, as_turns: bool) -> None:
    """Put gr.Dialogue in turn mode (one row per turn) or plain-text mode; its switch says which it is in."""
    switch = driver.find_element(By.CSS_SELECTOR, "#transcript button[role=switch]")
    if (switch.get_attribute("aria-checked") == "true") == as_turns:  # checked = plain text
        switch.click()
    selector = ".dialogue-line textarea" if as_turns else "textarea[data-testid=textbox]"
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, f"#transcript {selector}"))


def _replace_text(field: WebElement, text: str) -> None:
    # Select-all then type: Svelte's bindings only see real input events, which clear() does not send.
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.DELETE)
    if text:
        field.send_keys(text)


def _upload_voice(driver: webdriver.Chrome, speaker: str, clip: Path) -> None:
    driver.find_element(By.CSS_SELECTOR, f"#voice-{speaker} input[type=file]").send_keys(str(clip))
    # Once the server holds the file, the component offers it for download.
    WebDriverWait(driver, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, f"#voice-{speaker} a[data-testid=download-link][href]")
    )


def _playable_seconds(driver: webdriver.Chrome, url: str) -> float:
    """Load `url` into a browser audio element; its duration once the metadata is read (-1 on an error)."""
    return driver.execute_async_script(
        """const [url, done] = arguments;
        const audio = new Audio();
        audio.preload = 'metadata';
        audio.addEventListener('loadedmetadata', () => done(audio.duration));
        audio.addEventListener('error', () => done(-1));
        audio.src = url;""",
        url,
    )


def _error_text(driver: webdriver.Chrome, timeout: float) -> str:
    """The visible text of the error gradio shows for gr.Error (a toast), waited for."""
    selector = "[data-testid=toast-text]"
    WebDriverWait(driver, timeout).until(
        lambda d: any(e.text.strip() for e in d.find_elements(By.CSS_SELECTOR, selector))
    )
    return "\n".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, selector))


def _image_loaded(driver: webdriver.Chrome, element_id: str) -> bool:
    images = driver.find_elements(By.CSS_SELECTOR, f"#{element_id} img[src]")
    return bool(images) and driver.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth > 100 && arguments[0].clientHeight > 50",
        images[0],
    )


def test_edit_a_turn_upload_voices_generate_and_see_audio_and_heatmap(page):
    _show_turns(page, as_turns=True)
    first_turn = page.find_elements(By.CSS_SELECTOR, "#transcript .dialogue-line textarea")[0]
    _replace_text(first_turn, "Good evening, this line was typed in the browser.")
    _upload_voice(page, "S1", ROOT / "assets/voices/us1-female.wav")
    _upload_voice(page, "S2", ROOT / "assets/voices/rms-male.wav")
    page.find_element(By.ID, "check-btn").click()
    WebDriverWait(page, 30).until(lambda d: "typed in the browser" in d.find_element(By.ID, "report").text)

    page.find_element(By.ID, "generate-btn").click()
    # gradio's player (wavesurfer) keeps its media element out of the DOM; the result's URL is the player's
    # download link, shown with the waveform once the audio has arrived.
    player_link = "#dialogue-audio a[data-testid=download-link][href]"
    WebDriverWait(page, GENERATE_TIMEOUT_S).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, player_link) and _image_loaded(d, "confidence-heatmap")
    )
    page.execute_script("document.getElementById('confidence-heatmap').scrollIntoView()")
    page.save_screenshot(str(SHOTS / "dialogue_synth_generate.png"))
    audio_url = page.find_element(By.CSS_SELECTOR, player_link).get_attribute("href")
    seconds = _playable_seconds(page, audio_url)
    assert seconds > 1.0, f"{audio_url} does not play in the browser (duration {seconds})"
    assert page.find_elements(By.CSS_SELECTOR, "#dialogue-audio button[aria-label=Play]")
    assert _image_loaded(page, "fill-in")
    assert not page.find_elements(By.CSS_SELECTOR, ".toast-body"), "generation showed an error"


def _choose(driver: webdriver.Chrome, dropdown_id: str, label: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f"#{dropdown_id} input").click()
    option = f"#{dropdown_id} li[role=option][aria-label='{label}']"
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, option))
    driver.find_element(By.CSS_SELECTOR, option).click()


def test_demo_selector_fills_transcript_and_built_in_voices(page):
    demo = next(d for d in list_demos() if len(d.voices) == 3)
    _choose(page, "demo-select", demo.title)
    last = max(demo.voices)
    WebDriverWait(page, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, f"#voice-{last} a[data-testid=download-link][href]")
    )
    _show_turns(page, as_turns=False)
    text = page.find_element(By.CSS_SELECTOR, "#transcript textarea[data-testid=textbox]").get_attribute(
        "value"
    )
    first_line = demo.transcript.splitlines()[0]
    assert first_line.split("]", 1)[1].strip() in text
    for speaker, clip in demo.voices.items():
        shown = page.find_element(By.CSS_SELECTOR, f"#demo-voice-{speaker} input").get_attribute("value")
        assert shown == clip.stem, (speaker, shown)
    page.find_element(By.ID, "check-btn").click()
    WebDriverWait(page, 30).until(
        lambda d: all(c.name in d.find_element(By.ID, "report").text for c in demo.voices.values())
    )
    page.save_screenshot(str(SHOTS / "dialogue_synth_demo.png"))


@pytest.mark.parametrize(
    ("transcript", "expected"),
    [
        # The message names the line and the bad tag, and shows the fix.
        (
            "[S1] Hello there.\n<S2> This tag is wrong.",
            ("Line 2", "<S2> This tag is wrong.", "[S2] This tag"),
        ),
        ("", ("empty", "[S1]")),
    ],
    ids=["bad-tag", "empty"],
)
def test_bad_transcript_shows_a_readable_error(page, transcript, expected):
    _show_turns(page, as_turns=False)
    _replace_text(page.find_element(By.CSS_SELECTOR, "#transcript textarea[data-testid=textbox]"), transcript)
    page.find_element(By.ID, "check-btn").click()
    message = _error_text(page, timeout=30)
    page.save_screenshot(str(SHOTS / f"dialogue_synth_error_{'empty' if not transcript else 'tag'}.png"))
    for part in expected:
        assert part in message, f"the page shows {message!r}, without {part!r}"
    assert "Traceback" not in message
