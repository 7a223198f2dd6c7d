"""English normalization: numbers, currency, times, abbreviations, symbols, scripts and emoji."""

import pytest

from engine.errors import UserInputError
from engine.text.normalize import UnsupportedTextError, normalize_for_scoring, normalize_text


def said(text: str) -> str:
    return normalize_text(text).text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I have 3 cats.", "I have three cats."),
        ("It is -5 outside.", "It is minus five outside."),
        ("Pi is 3.14", "Pi is three point one four"),
        ("We sold 1,000,000 copies", "We sold one million copies"),
        ("That is 12345 steps", "That is twelve thousand three hundred forty-five steps"),
        ("Agent 007", "Agent zero zero seven"),
        ("Pages 10-20.", "Pages ten to twenty."),
        ("From 1990-1995", "From nineteen ninety to nineteen ninety-five"),
        ("Call 555-123-4567.", "Call five five five, one two three, four five six seven."),
    ],
)
def test_cardinals(text, expected):
    assert said(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the 1st", "the first"),
        ("the 2nd", "the second"),
        ("the 3rd", "the third"),
        ("the 22nd", "the twenty-second"),
        ("the 103rd", "the one hundred third"),
        ("the 12th", "the twelfth"),
        ("the 40th", "the fortieth"),
    ],
)
def test_ordinals(text, expected):
    assert said(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in 1999", "in nineteen ninety-nine"),
        ("It is 2024.", "It is twenty twenty-four."),
        ("in 1905", "in nineteen oh five"),
        ("in 2005", "in two thousand five"),
        ("in the 1990s", "in the nineteen nineties"),
        ("the '80s", "the eighties"),
        ("2024 was good", "twenty twenty-four was good"),
        ("In 1999, we won.", "In nineteen ninety-nine, we won."),
        ("1500 items", "one thousand five hundred items"),
        ("1,999 items", "one thousand nine hundred ninety-nine items"),
    ],
)
def test_years(text, expected):
    assert said(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$5", "five dollars"),
        ("$1", "one dollar"),
        ("$5.50", "five dollars and fifty cents"),
        ("$0.01", "one cent"),
        ("£3", "three pounds"),
        ("€20", "twenty euros"),
        ("5 USD", "five dollars"),
        ("$2.5 million", "two point five million dollars"),
        ("50¢", "fifty cents"),
    ],
)
def test_currency(text, expected):
    assert said(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("on 12/25/2024", "on December twenty-fifth, twenty twenty-four"),
        ("on 2024-01-15", "on January fifteenth, twenty twenty-four"),
        ("on 1/5/05", "on January fifth, oh five"),
        ("on May 1st and June 30", "on May first and June thirtieth"),
    ],
)
def test_dates(text, expected):
    assert said(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Growth was 12.5%", "Growth was twelve point five percent"),
        ("at 3:30", "at three thirty"),
        ("at 10:05 pm", "at ten oh five PM"),
        ("at 7am", "at seven AM"),
        ("at 3:00.", "at three o'clock."),
        ("It is 25°C", "It is twenty-five degrees Celsius"),
        ("It is 77 °F", "It is seventy-seven degrees Fahrenheit"),
        ("1 kg and 5 km", "one kilogram and five kilometers"),
        ("a 4x4", "a four by four"),
        ("add 1/2 cup", "add one half cup"),
    ],
)
def test_percent_times_units(text, expected):
    assert said(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mr Smith and Mrs. Jones", "Mister Smith and Missus Jones"),
        ("Ms. Lee took 5 ms", "Miz Lee took five milliseconds"),
        ("Ave Maria on Park Ave. today", "Ave Maria on Park Avenue today"),
        ("Dr. Who lives on Sunset Dr.", "Doctor Who lives on Sunset Drive."),
        ("St. Louis is on Elm St. now", "Saint Louis is on Elm Street now"),
        ("cats vs. dogs", "cats versus dogs"),
        ("apples, pears, etc.", "apples, pears, et cetera"),
        ("fruit, e.g. apples", "fruit, for example, apples"),
        ("fruit, i.e. apples", "fruit, that is, apples"),
        ("approx. 5 people", "approximately five people"),
        ("No. 5 is mine. No, it is not.", "Number five is mine. No, it is not."),
        ("I live in the U.S. Really?", "I live in the US. Really?"),
    ],
)
def test_abbreviations(text, expected):
    assert said(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tom & Jerry", "Tom and Jerry"),
        ("2+2=4", "two plus two equals four"),
        ("meet @home", "meet at home"),
        ("ticket #1", "ticket number one"),
        ("yes and/or no", "yes and or no"),
        ("up/down", "up slash down"),
        ("if 3 < 5 and 7 > 2", "if three less than five and seven greater than two"),
        ("<Mercury> hi there", "Mercury, hi there"),
        ("~5 minutes", "about five minutes"),
        ("c. 1895, pg. 7", "circa eighteen ninety-five, page seven"),
    ],
)
def test_symbols(text, expected):
    assert said(text) == expected


def test_sentence_punctuation_is_kept_and_tidied():
    assert said("Hello , world ! Is it ok ?! Yes; fine: done.") == "Hello, world! Is it ok? Yes; fine: done."
    assert said("Well -- maybe… (quietly) “fine”") == "Well, maybe... quietly, fine"
    assert said("  lots   of\n\tspace  ") == "lots of space"
    assert said("See number 2;") == "See number two"  # a dangling clause mark at the end goes


def test_colon_prose_is_not_a_time():
    assert said("Note: the time is 3:30.") == "Note: the time is three thirty."


def test_latin_accents_are_kept():
    assert said("A café, naïve façade") == "A café, naïve façade"


def test_emoji_are_dropped_with_a_note():
    result = normalize_text("Great job 😀 ❤️ thanks 👍🏽")
    assert result.text == "Great job thanks"
    note = next(note for note in result.notes if "removed" in note)
    assert "3 symbols" in note and "😀" in note and "👍🏽" in note


def test_readings_are_noted():
    notes = normalize_text("I paid $5 at 3:30").notes
    assert "read '$5' as 'five dollars'" in notes
    assert "read '3:30' as 'three thirty'" in notes


@pytest.mark.parametrize(
    ("text", "script", "word"),
    [
        ("Say привет to them", "Cyrillic", "привет"),
        ("Hello 你好", "Chinese (CJK)", "你好"),
        ("It is γεια", "Greek", "γεια"),
        ("مرحبا friend", "Arabic", "مرحبا"),
    ],
)
def test_other_scripts_are_an_error_naming_script_and_fix(text, script, word):
    with pytest.raises(UnsupportedTextError) as info:
        normalize_text(text)
    message = str(info.value)
    assert f"{script} letters" in message and repr(word) in message
    assert "transliterate or translate" in message
    assert isinstance(info.value, UserInputError)


@pytest.mark.parametrize("text", ["", "   ", "😀🎉", "..."])
def test_nothing_to_say_is_an_error(text):
    with pytest.raises(UserInputError, match="nothing to say.*write"):
        normalize_text(text)


def test_normalize_for_scoring():
    scored = normalize_for_scoring("It's 3:30, Dr. Smith -- well-known!")
    assert scored == "it's three thirty doctor smith well known"
    assert normalize_for_scoring("I paid $5.50.") == "i paid five dollars and fifty cents"
    assert normalize_for_scoring("“Hello,” she said.") == "hello she said"
    assert normalize_for_scoring("") == ""
