"""What the browser tests do on the page (tests/test_browser.py): read an element's text, type into the
dialogue, press, upload, wait for a Generate, check that nothing went to a toast or an error badge, save a
screenshot. Imported only once the browser and selenium are known to be there."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

from PIL import Image
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

GENERATE_TIMEOUT_S = 120
SHOTS = Path(
    os.environ.get("DIALOGUE_SYNTH_SCREENSHOTS", "/tmp/dialogue-synth-screenshots")
)  # `shot` saves here
SHOT_SCALE = 0.75
PLAYER_LINK = "#dialogue-audio a[data-testid=download-link][href]"


def text_of(driver: webdriver.Chrome, element_id: str) -> str:
    found = driver.find_elements(By.ID, element_id)
    return found[0].text if found else ""


_REGION = """
const rects = arguments[0].map(id => document.getElementById(id)).filter(e => e)
  .map(e => e.getBoundingClientRect()).filter(r => r.width > 0 && r.height > 0);
if (!rects.length) return null;
const left = Math.max(0, Math.min(...rects.map(r => r.left)) - 8);
const top = Math.max(0, Math.min(...rects.map(r => r.top)) + window.scrollY - 8);
const right = Math.max(...rects.map(r => r.right)) + 8, bottom = Math.max(...rects.map(r => r.bottom)) + window.scrollY + 8;
return {x: left, y: top, width: right - left, height: bottom - top, scale: 1};
"""


def shot(driver: webdriver.Chrome, name: str, *element_ids: str) -> None:
    """Save SHOTS/<name>.png: the part of the page holding these elements (the window, without any), at
    SHOT_SCALE in 256 colours, small enough to keep in docs/screenshots/."""
    region = driver.execute_script(_REGION, list(element_ids))
    if region is None:
        png = driver.get_screenshot_as_png()
    else:
        capture = {"format": "png", "clip": region, "captureBeyondViewport": True}
        png = base64.b64decode(driver.execute_cdp_cmd("Page.captureScreenshot", capture)["data"])
    image = Image.open(io.BytesIO(png)).convert("RGB")
    size = (round(image.width * SHOT_SCALE), round(image.height * SHOT_SCALE))
    SHOTS.mkdir(parents=True, exist_ok=True)
    image.resize(size, Image.Resampling.LANCZOS).quantize(256).save(SHOTS / f"{name}.png", optimize=True)


def replace_text(field: WebElement, text: str) -> None:
    # Select-all then type: Svelte's bindings only see real input events, which clear() does not send.
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.DELETE)
    if text:
        field.send_keys(text)  # "\n" makes a new line in a multi-line textbox


def set_transcript(driver: webdriver.Chrome, text: str) -> None:
    """Type the dialogue, or set it by script when it holds what chromedriver cannot type (emoji)."""
    field = driver.find_element(By.CSS_SELECTOR, "#transcript textarea")
    if all(ord(c) <= 0xFFFF for c in text):
        replace_text(field, text)
    else:
        driver.execute_script(
            "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
            field,
            text,
        )
    WebDriverWait(driver, 10).until(lambda d: field.get_attribute("value") == text)


def press(driver: webdriver.Chrome, button_id: str) -> None:
    driver.find_element(By.ID, button_id).click()


def wait_text(driver: webdriver.Chrome, element_id: str, part: str, timeout: float = 30) -> str:
    WebDriverWait(driver, timeout).until(lambda d: part in text_of(d, element_id))
    return text_of(driver, element_id)


def upload(driver: webdriver.Chrome, slot: str, clip: Path) -> None:
    driver.find_element(By.CSS_SELECTOR, f"#voice-{slot} input[type=file]").send_keys(str(clip))


def image_src(driver: webdriver.Chrome, element_id: str) -> str:
    images = driver.find_elements(By.CSS_SELECTOR, f"#{element_id} img[src]")
    return images[0].get_attribute("src") if images else ""


def generated(driver: webdriver.Chrome) -> None:
    """Wait for a Generate to deliver everything: the audio, then the drawn views."""
    WebDriverWait(driver, GENERATE_TIMEOUT_S).until(
        lambda d: (
            d.find_elements(By.CSS_SELECTOR, PLAYER_LINK)
            and "Decoding views drawn" in text_of(d, "run-status")
        )
    )


def playable_seconds(driver: webdriver.Chrome, url: str) -> float:
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


def no_error_badges_or_toasts(driver: webdriver.Chrome) -> None:
    badges = driver.find_elements(By.CSS_SELECTOR, "[data-testid=status-tracker] .error")
    assert not [b for b in badges if b.is_displayed()], "an output shows gradio's bare 'Error' badge"
    toasts = driver.find_elements(By.CSS_SELECTOR, "[data-testid=toast-body], .toast-body")
    assert not [t.text for t in toasts if t.is_displayed()], "a message went to a toast"


def choose(driver: webdriver.Chrome, dropdown_id: str, label: str) -> list[str]:
    """Pick the option of a dropdown whose label starts with `label`; returns every option's label."""
    driver.find_element(By.CSS_SELECTOR, f"#{dropdown_id} input").click()
    options = f"#{dropdown_id} li[role=option]"
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, options))
    found = driver.find_elements(By.CSS_SELECTOR, options)
    labels = [option.get_attribute("aria-label") for option in found]
    next(o for o, text in zip(found, labels, strict=True) if text.startswith(label)).click()
    return labels
