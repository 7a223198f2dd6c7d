"""The app in a real headless Chromium, as a new user meets it (issue 23): it opens on a dialogue that
generates, says what is wrong next to its cause, plays the audio before the figures are drawn, reads
`Name:` lines and speaker tags as it says, streams the comparison, checks clips on upload, and draws the
decoding views on the player's seconds. Needs Debian's chromium + chromium-driver and selenium
(install.sh --dev). Screenshots of each point go to $DIALOGUE_SYNTH_SCREENSHOTS (default
/tmp/dialogue-synth-screenshots); docs/screenshots/ was made this way."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile

from engine.demos import list_demos
from tests.app_server import ROOT, running_app
from tests.audio_fixtures import write_wav

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
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser_helpers import (
    GENERATE_TIMEOUT_S,
    PLAYER_LINK,
    choose,
    generated,
    image_src,
    no_error_badges_or_toasts,
    playable_seconds,
    press,
    set_transcript,
    shot,
    text_of,
    upload,
    wait_text,
)

SHORT = "[S1] Hello there, how are you?\n[S2] Fine, thanks."


@pytest.fixture(scope="module")
def app_url(tmp_path_factory) -> Iterator[str]:
    if os.environ.get("DIALOGUE_SYNTH_URL"):  # an app already running (while writing these tests)
        yield os.environ["DIALOGUE_SYNTH_URL"]
        return
    with running_app(tmp_path_factory.mktemp("app") / "app.log") as (url, _):
        yield url


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
    """The page as it opens, once its opening voices are in place."""
    browser.get(app_url)
    WebDriverWait(browser, 30).until(lambda d: "built-in voice" in text_of(d, "voice-status-S2"))
    return browser


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    """Clips a user might drop on a slot by mistake."""
    folder = tmp_path_factory.mktemp("clips")
    rate = 16000
    t = np.arange(5 * rate) / rate
    (folder / "notes.wav").write_text("these are my notes, not audio")
    speech, speech_rate = soundfile.read(ROOT / "assets/voices/rms-male.wav", dtype="float32")
    return {
        "tone": write_wav(folder / "tone.wav", (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate),
        "silent": write_wav(folder / "silent.wav", np.zeros(3 * rate, np.float32), rate),
        "long": write_wav(
            folder / "long.wav", np.tile(speech, int(np.ceil(120 * speech_rate / len(speech)))), speech_rate
        ),
        "text": folder / "notes.wav",
        "speech": ROOT / "assets/voices/rms-male.wav",
    }


# 1. The page opens on a dialogue that generates ---------------------------------------------------------


def test_the_first_generate_works_with_the_opening_voices(page):
    assert page.find_element(By.CSS_SELECTOR, "#demo-voice-S1 input").get_attribute("value") == "us1-female"
    shot(page, "1_opens", "demo-select", "transcript-tabs", "transcript-status", "slot-S1", "slot-S2")
    press(page, "generate-btn")
    generated(page)
    assert text_of(page, "run-status").startswith("✓")
    seconds = playable_seconds(page, page.find_element(By.CSS_SELECTOR, PLAYER_LINK).get_attribute("href"))
    assert seconds > 3.0, f"the audio does not play in the browser (duration {seconds})"
    assert "2 turns" in text_of(page, "report")
    no_error_badges_or_toasts(page)
    shot(page, "1_first_generate", "run-status", "dialogue-audio", "downloads")


# 2. Messages in place; the previous outputs kept, marked --------------------------------------------------


def test_a_mistake_is_shown_next_to_its_cause_and_the_previous_outputs_stay_marked(page):
    press(page, "generate-btn")
    generated(page)
    audio_url = page.find_element(By.CSS_SELECTOR, PLAYER_LINK).get_attribute("href")
    figure = image_src(page, "fill-in")
    set_transcript(page, "[S1] Hello there.\n<S2> This tag is wrong.")
    press(page, "generate-btn")
    message = wait_text(page, "transcript-status", "✗")
    assert message.startswith("✗ Line 2") and "<S2> This tag is wrong." in message and "[S2]" in message
    assert "what is wrong is shown under the dialogue" in wait_text(page, "run-status", "stopped")
    no_error_badges_or_toasts(page)
    # The audio and the figures stay, the report and the player say they are from the Generate before.
    assert page.find_element(By.CSS_SELECTOR, PLAYER_LINK).get_attribute("href") == audio_url
    assert "earlier Generate" in page.find_element(By.ID, "dialogue-audio").text
    assert image_src(page, "fill-in") == figure
    assert text_of(page, "report").startswith("⚠ Out of date")
    shot(page, "2_error_under_the_dialogue", "transcript-tabs", "transcript-status")
    shot(page, "2_previous_outputs_marked", "run-status", "dialogue-audio", "report")
    # A speaker with no voice: the message goes under that speaker's slot.
    set_transcript(page, "[S1] Hello there.\n[S3] I have no voice yet.")
    press(page, "generate-btn")
    assert wait_text(page, "voice-status-S3", "✗").startswith(
        "✗ S3 speaks in turn 2 (line 2) but has no voice"
    )
    assert "under voice slot S3" in wait_text(page, "run-status", "stopped")
    no_error_badges_or_toasts(page)
    shot(page, "2_error_under_the_slot", "slot-S3", "run-status")


# 3. The audio and downloads first, then the figures ------------------------------------------------------

_WATCH = """
window.arrived = {};
const started = performance.now();
const seen = (name, ok) => { if (ok && !(name in window.arrived)) window.arrived[name] = performance.now() - started; };
window.overlays = 0;
window.audioCovered = false;
new MutationObserver(() => {
  const audio = document.querySelector('#dialogue-audio a[data-testid=download-link][href]');
  const busy = id => {
    const tracker = document.querySelector(`#${id} [data-testid=status-tracker]`);
    return !!tracker && !tracker.classList.contains('hide');
  };
  if (audio && busy('fill-in') && busy('dialogue-audio')) window.audioCovered = true;
  seen('audio', audio);
  seen('downloads', document.querySelector('#downloads a[data-testid=download-link]'));
  seen('figures', document.querySelector('#fill-in img[src]'));
  const shown = [...document.querySelectorAll('[data-testid=status-tracker]')].filter(
    t => !t.classList.contains('hide') && t.offsetParent !== null && t.textContent.trim());
  window.overlays = Math.max(window.overlays, shown.length);
}).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
"""


def test_the_audio_can_be_played_before_the_figures_are_drawn(page):
    page.execute_script(_WATCH)
    press(page, "generate-btn")
    generated(page)
    arrived = page.execute_script("return window.arrived")
    assert arrived["audio"] < arrived["figures"] and arrived["downloads"] < arrived["figures"], arrived
    assert page.execute_script("return window.audioCovered") is False, (
        "the player was under the progress overlay while the figures were drawn"
    )
    # Issue 23, point 10: the progress showed in one box, not in six.
    assert page.execute_script("return window.overlays") == 1
    assert "audio and downloads after" in text_of(page, "run-status")


# 4. The format is shown; Name: lines that are not speakers stay text -----------------------------------


def test_the_format_is_shown_and_a_name_line_that_is_not_a_speaker_stays_text(page):
    assert "One turn per line" in text_of(page, "transcript") and "Note:" in text_of(page, "transcript")
    set_transcript(
        page, "[S1] Listen to the plan.\nRemember: bring the tickets.\n[S2] Fine.\nNote: it starts at eight."
    )
    summary = wait_text(page, "transcript-status", "Kept as text")
    assert "Read as 2 turns; speakers: S1, S2." in summary
    assert "Kept as text, not speakers: line 2 ('Remember:'), line 4 ('Note:')" in summary
    assert "free: give it a voice to make 'Remember'" in text_of(page, "slot-heading-S3")
    press(page, "check-btn")
    report = wait_text(page, "report", "Check:")
    assert "Line 2 ('Remember: ...') is read as text of turn 1 (S1), not as a new speaker" in report
    assert "Listen to the plan. Remember: bring the tickets." in report
    shot(page, "4_name_lines_kept_as_text", "transcript-tabs", "transcript-status", "slot-heading-S3")
    shot(page, "4_check_says_how_lines_were_read", "report")


# 5. Every speaker its own slot ------------------------------------------------------------------------------


def test_every_speaker_gets_its_own_slot_or_a_message(page):
    assert not [e for e in page.find_elements(By.ID, "slot-S7") if e.is_displayed()]
    set_transcript(page, "[S1] Hi.\n[S2] Hello.\n[S7] Me too.")
    WebDriverWait(page, 10).until(
        lambda d: [e for e in d.find_elements(By.ID, "slot-S7") if e.is_displayed()]
    )
    assert (
        text_of(page, "slot-heading-S7") == "S7 · turn 3"
        and text_of(page, "slot-heading-S2") == "S2 · turn 2"
    )
    press(page, "check-btn")
    assert wait_text(page, "voice-status-S7", "✗").startswith(
        "✗ S7 speaks in turn 3 (line 3) but has no voice"
    )
    shot(page, "5_slot_S7", "slot-S7")
    set_transcript(page, "[S1] Hi.\n[S9] Me too.")
    assert "No voice slot for: S9" in wait_text(page, "transcript-status", "No voice slot")
    press(page, "check-btn")
    assert "S9 (turn 2, line 2) has no voice slot" in wait_text(page, "transcript-status", "✗")
    no_error_badges_or_toasts(page)


# 6. The comparison streams each player, with its time --------------------------------------------------


def test_the_comparison_streams_each_player_as_its_run_finishes(page):
    tab = page.find_element(By.CSS_SELECTOR, "#output-tabs button[role=tab]:nth-of-type(2)")
    assert "Compare" in tab.text and tab.location["y"] < page.find_element(By.ID, "report").location["y"]
    set_transcript(page, SHORT)
    press(page, "compare-btn")
    first = "#compare-1 a[data-testid=download-link][href]"
    last = "#compare-16 a[data-testid=download-link][href]"
    WebDriverWait(page, GENERATE_TIMEOUT_S).until(lambda d: d.find_elements(By.CSS_SELECTOR, first))
    assert page.find_element(By.ID, "compare-status").is_displayed()  # its tab opened by itself
    early = bool(page.find_elements(By.CSS_SELECTOR, last))
    assert "1 iteration, made in" in page.find_element(By.ID, "compare-1").text
    shot(page, "6_compare_streaming", "output-tabs")
    WebDriverWait(page, GENERATE_TIMEOUT_S).until(lambda d: d.find_elements(By.CSS_SELECTOR, last))
    assert not early, "the 16-iteration player came with the first one"
    assert "5 of 5 runs ready" in text_of(page, "compare-status")
    assert "16 iterations, made in" in page.find_element(By.ID, "compare-16").text
    shot(page, "6_compare_done", "output-tabs")


# 7. Clips checked on upload ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clip", "expected"),
    [
        ("tone", "✗ Voice clip 'tone.wav' cannot be used: it sounds like a steady tone at 44"),
        ("silent", "silent"),
        ("long", "voice prompts need at most 30 s"),
        ("text", "could not be read as audio"),
        ("speech", "✓ rms-male.wav: 4.6 s of speech at 16 kHz"),
    ],
)
def test_a_clip_is_checked_on_upload(page, clips, clip, expected):
    upload(page, "S3", clips[clip])
    status = wait_text(page, "voice-status-S3", "✗" if clip != "speech" else "✓")
    assert expected in status, status
    shot(page, f"7_upload_{clip}", "slot-S3")


# 9. The decoding views ---------------------------------------------------------------------------------------


def test_the_views_count_the_decoders_steps_and_show_a_chosen_turn(page):
    press(page, "generate-btn")  # the example, group decoder, 2 iterations
    generated(page)
    slider = page.find_element(By.CSS_SELECTOR, "#decoder-step input[type=range]")
    assert slider.get_attribute("max") == "5" and slider.get_attribute("value") == "5"
    label = page.find_element(By.ID, "decoder-step").text
    assert "the decoder made 5" in label and "1-2: group 0 coarse" in label and "5: group 1 fine" in label
    before = {name: image_src(page, name) for name in ("fill-in", "confidence-heatmap", "spectrogram")}
    labels = choose(page, "view-window", "turn 2 · ")
    assert labels[0].startswith("whole dialogue (0-") and labels[1].startswith("turn 1 · S1 · "), labels
    WebDriverWait(page, 30).until(lambda d: all(image_src(d, name) != src for name, src in before.items()))
    shot(page, "9_turn_2_window", "decoding-views")
    fill_in = image_src(page, "fill-in")
    slider.click()
    slider.send_keys(Keys.HOME)  # to step 1
    WebDriverWait(page, 30).until(lambda d: image_src(d, "fill-in") != fill_in)
    assert slider.get_attribute("value") == "1"
    shot(page, "9_step_1", "fill-in", "decoder-step")


# 10. The smaller points ------------------------------------------------------------------------------------


def test_download_names_are_shown_whole(page):
    press(page, "generate-btn")
    generated(page)
    for stem in page.find_elements(By.CSS_SELECTOR, "#downloads .filename"):
        assert stem.text.replace("\n", "") in ("dialogue-group-2it-seed0.wav", "dialogue-group-2it-seed0.mp3")
        shown = page.execute_script(
            "const r = arguments[0].getBoundingClientRect(), c = arguments[0].closest('table').getBoundingClientRect();"
            "return [arguments[0].scrollWidth <= arguments[0].clientWidth + 1, r.right <= c.right + 1, r.height];",
            stem,
        )
        assert shown[0] and shown[1] and shown[2] < 30, shown  # on one line, inside its box
    shot(page, "10_downloads", "dialogue-audio", "downloads")


def test_the_report_says_what_was_not_spoken(page):
    set_transcript(page, "[S1] Great news 🎉 today.\n[S2] (laughs) Really?")
    press(page, "generate-btn")
    generated(page)
    report = text_of(page, "report")
    assert "Turn 1: removed 1 symbol that cannot be spoken: '🎉'" in report
    assert "Turn 2: (laughs) is a stage direction and not spoken" in report
    shot(page, "10_report_notes", "report")


def test_check_shows_a_table_with_the_phones_folded_away(page):
    press(page, "check-btn")
    wait_text(page, "report", "Check: 2 turns")
    rows = page.find_elements(By.CSS_SELECTOR, "#report table tr")
    assert len(rows) >= 3 and "forty-two dollars and fifty cents" in rows[2].text
    details = page.find_element(By.CSS_SELECTOR, "#report details")
    assert details.get_attribute("open") is None  # the phone symbols are there, folded away
    shot(page, "10_check", "report")


def test_the_turn_editor_reorders_and_adds_turns_for_the_next_speaker(page):
    set_transcript(page, "[S1] One.\n[S2] Two.\n[S1] Three.")
    page.find_element(By.CSS_SELECTOR, "#transcript-tabs button[role=tab]:nth-of-type(2)").click()
    WebDriverWait(page, 10).until(lambda d: d.find_elements(By.ID, "turn-3-text"))
    press(page, "turn-1-down")
    WebDriverWait(page, 10).until(
        lambda d: (
            d.find_element(By.CSS_SELECTOR, "#turn-1-text textarea, #turn-1-text input").get_attribute(
                "value"
            )
            == "Two."
        )
    )
    press(page, "turn-add")  # after S1 and S1: the other speaker
    WebDriverWait(page, 10).until(lambda d: d.find_elements(By.ID, "turn-4-text"))
    speakers = [
        page.find_element(By.CSS_SELECTOR, f"#turn-{k}-speaker input").get_attribute("value")
        for k in range(1, 5)
    ]
    assert speakers == ["S2", "S1", "S1", "S2"], speakers
    shot(page, "10_turn_editor", "transcript-tabs")
    page.find_element(By.CSS_SELECTOR, "#transcript-tabs button[role=tab]:nth-of-type(1)").click()
    text = page.find_element(By.CSS_SELECTOR, "#transcript textarea").get_attribute("value")
    assert text == "[S2] Two.\n[S1] One.\n[S1] Three.\n[S2]"


def test_the_slot_columns_stay_in_line_when_a_clip_is_loaded(page):
    set_transcript(page, "[S1] Hi.\n[S2] Hello.\n[S3] Hey.")
    WebDriverWait(page, 10).until(
        lambda d: [e for e in d.find_elements(By.ID, "slot-S3") if e.is_displayed()]
    )
    for part in ("demo-voice", "voice-text", "rate"):
        loaded, empty = (page.find_element(By.ID, f"{part}-{slot}").rect for slot in ("S1", "S3"))
        assert abs(loaded["x"] - empty["x"]) < 2 and abs(loaded["width"] - empty["width"]) < 2, part


def test_demo_selector_fills_transcript_and_built_in_voices(page):
    demo = next(d for d in list_demos() if len(d.voices) == 3)
    choose(page, "demo-select", demo.title)
    last = max(demo.voices)
    WebDriverWait(page, 30).until(lambda d: "built-in voice" in text_of(d, f"voice-status-{last}"))
    text = page.find_element(By.CSS_SELECTOR, "#transcript textarea").get_attribute("value")
    assert text == demo.transcript
    for speaker, clip in demo.voices.items():
        shown = page.find_element(By.CSS_SELECTOR, f"#demo-voice-{speaker} input").get_attribute("value")
        assert shown == clip.stem, (speaker, shown)
    press(page, "check-btn")
    WebDriverWait(page, 30).until(lambda d: all(c.name in text_of(d, "report") for c in demo.voices.values()))
