"""Transcript parsing: tags, multi-line turns, stage directions, every malformed-tag error, voice checks."""

import pytest

from engine.errors import UserInputError
from engine.text.tags import name_tags
from engine.text.transcript import (
    TranscriptError,
    Turn,
    as_read,
    check_voices,
    parse_transcript,
    read_transcript,
    speakers,
    turn_sources,
)


def test_s_tags_and_names_mixed_with_four_plus_speakers():
    turns = parse_transcript(
        "[S1] Hello there.\n[S2] Hi!\nAlice: Good morning.\nDr Smith: Welcome.\nPlayer 2: Ready.\n[S12] Go."
    )
    assert [t.speaker for t in turns] == ["S1", "S2", "Alice", "Dr Smith", "Player 2", "S12"]
    assert [t.text for t in turns] == ["Hello there.", "Hi!", "Good morning.", "Welcome.", "Ready.", "Go."]
    assert [t.line for t in turns] == [1, 2, 3, 4, 5, 6]
    assert speakers(turns) == ["S1", "S2", "Alice", "Dr Smith", "Player 2", "S12"]


def test_multi_line_turns_and_blank_lines():
    turns = parse_transcript("\n[S1] This turn\ngoes on\n\n   over lines.\n\n[S2] Short.\n")
    assert turns == [Turn("S1", "This turn goes on over lines.", (), 2), Turn("S2", "Short.", (), 7)]


def test_tag_alone_on_its_line_takes_the_next_lines():
    turns = parse_transcript("Alice:\nHello there.\n[S2]\n(whispering) Hi.")
    assert turns == [Turn("Alice", "Hello there.", (), 1), Turn("S2", "Hi.", ("whispering",), 3)]


def test_inline_s_tags_start_new_turns():
    turns = parse_transcript("[S1] Hi. [S2] Hello. [s3] Hey [sic].")
    assert [(t.speaker, t.text) for t in turns] == [("S1", "Hi."), ("S2", "Hello."), ("S3", "Hey [sic].")]
    assert {t.line for t in turns} == {1}


def test_stage_directions_are_not_spoken():
    (turn,) = parse_transcript("[S1] (laughs) That is funny (whispering) , really ((very)) .")
    assert turn.text == "That is funny, really."
    assert turn.directions == ("laughs", "whispering", "(very)")


def test_speaker_case_and_spelling():
    turns = parse_transcript("[s1] a\nS1: b\nalice: c\nALICE : d\n[Alice] e")
    assert speakers(turns) == ["S1", "alice"]
    assert [t.text for t in turns] == ["a", "b", "c", "d", "e"]


def test_colons_in_text_after_a_tag_are_text():
    turns = parse_transcript("[S1] Note: the time is 3:30.\nAlice: PS: see you at 10:05.")
    assert [(t.speaker, t.text) for t in turns] == [
        ("S1", "Note: the time is 3:30."),
        ("Alice", "PS: see you at 10:05."),
    ]


def test_colon_prose_on_continuation_lines():
    text = "[S1] Listen.\n  Note: the time is 3:30.\nso he said: hi\n3:30 is late\nhttp://x.io"
    turns = parse_transcript(text)
    assert len(turns) == 1
    assert turns[0].text == "Listen. Note: the time is 3:30. so he said: hi 3:30 is late http://x.io"


def test_unindented_single_word_colon_is_a_speaker_and_check_voices_explains():
    turns = parse_transcript("[S1] Listen.\nNote: the time is late.")
    assert speakers(turns) == ["S1", "Note"]
    with pytest.raises(TranscriptError) as info:
        check_voices(turns, {"S1": "a.wav"})
    assert "indent that line" in str(info.value)


def test_empty_transcript():
    for text in ("", "   \n\t\n"):
        with pytest.raises(TranscriptError, match=r"empty; write one turn per line, e.g. '\[S1\]"):
            parse_transcript(text)


def test_text_before_first_tag():
    with pytest.raises(TranscriptError) as info:
        parse_transcript("\nhello there\n[S1] hi")
    message = str(info.value)
    assert message.startswith("Line 2:") and "before the first speaker tag" in message
    assert "'[S1] hello there'" in message


def test_speaker_name_the_format_does_not_take_gets_a_hint():
    with pytest.raises(TranscriptError) as info:
        parse_transcript("Dr. Smith: Hello.\n[S2] Hi.")
    message = str(info.value)
    assert message.startswith("Line 1:") and "before the first speaker tag" in message
    assert "write it as 'Dr Smith: ...'" in message


@pytest.mark.parametrize(
    ("text", "problem", "fix"),
    [
        ("<S1> hi", "does not start with a speaker tag", "'[S1] hi'"),
        ("{S1} hi", "does not start with a speaker tag", "'[S1] hi'"),
        ("[S1 hi", "no closing ']'", "'[S1] hi'"),
        ("S1] hi", "no opening '['", "'[S1] hi'"),
        ("[] hi", "empty speaker tag '[]'", "'[S1] hi'"),
        ("[Speaker one two three four] hi", "is not a speaker tag", "'[S1] hi'"),
        ("[S0] hi", "S1 to S99", "renumber"),
        ("[S100] hi", "S1 to S99", "renumber"),
    ],
)
def test_bad_tag_syntax(text, problem, fix):
    with pytest.raises(TranscriptError) as info:
        parse_transcript(f"[S1] fine\n{text}")
    message = str(info.value)
    assert message.startswith("Line 2:") and problem in message and fix in message


def test_tag_with_no_text():
    with pytest.raises(TranscriptError) as info:
        parse_transcript("[S1] hi\n[S2]\n\n[S3] there")
    message = str(info.value)
    assert message.startswith("Line 2:") and "S2" in message and "no text" in message
    assert "write the words after the tag" in message


def test_turn_that_is_only_a_stage_direction():
    with pytest.raises(TranscriptError) as info:
        parse_transcript("[S1] hi\nBob: (laughs)")
    message = str(info.value)
    assert message.startswith("Line 2:") and "only the stage direction '(laughs)'" in message
    assert "'[Bob] (laughs) That is funny.'" in message


@pytest.mark.parametrize(
    ("line", "problem"), [("hi (laughs", "never closed"), ("hi laughs)", "no '(' before it")]
)
def test_unbalanced_parentheses(line, problem):
    with pytest.raises(TranscriptError) as info:
        parse_transcript(f"[S1] ok\n[S2] {line}")
    message = str(info.value)
    assert message.startswith("Line 2:") and problem in message and "(laughs)" in message


def test_errors_are_user_input_errors():
    assert issubclass(TranscriptError, UserInputError)


def test_missing_voice_names_turn_line_and_fix():
    turns = parse_transcript("[S1] a\n[S2] b\n\n[S1] c\n[S3] d\n[S4] e")
    with pytest.raises(TranscriptError) as info:
        check_voices(turns, {"S1": "one.wav", "S2": "two.wav"})
    message = str(info.value)
    assert message.startswith("Turn 4 (line 5) is spoken by S3, but no voice was given for S3")
    assert "add --voice S3=FILE or pick a voice for S3" in message and "S4" in message


def test_voices_match_ignoring_case_and_unused_voices_warn():
    turns = parse_transcript("[S1] a\nAlice: b")
    assert check_voices(turns, {"s1": "one.wav", "alice": "two.wav"}) == []
    warnings = check_voices(turns, {"S1": 1, "Alice": 2, "S7": 3})
    assert len(warnings) == 1 and "S7 never speaks" in warnings[0] and "S1, Alice" in warnings[0]


# Reading with the voices known: a `Name:` line that is not a speaker stays text (issue 23, point 4) --------

PLAN = "[S1] Listen to the plan.\nRemember: bring the tickets.\n[S2] Fine.\nNote: it starts at eight."


def test_a_name_line_without_a_voice_stays_text_and_its_reading_says_so():
    turns, readings = read_transcript(PLAN, voiced=["S1", "S2"])
    assert [t.text for t in turns] == [
        "Listen to the plan. Remember: bring the tickets.",
        "Fine. Note: it starts at eight.",
    ]
    kept = [(r.line, r.name, r.turn, r.speaker) for r in readings if r.kept_as_text]
    assert kept == [(2, "Remember", 1, "S1"), (4, "Note", 2, "S2")]
    assert [r.starts_turn for r in readings] == [True, False, True, False]
    # Without the voices every `Name:` line starts a turn, as before.
    assert speakers(parse_transcript(PLAN)) == ["S1", "Remember", "S2", "Note"]


def test_a_name_is_a_speaker_with_a_voice_a_bracket_two_lines_or_the_first_line():
    assert speakers(parse_transcript(PLAN, voiced=["S1", "S2", "remember"])) == ["S1", "Remember", "S2"]
    text = "Alice: Hi.\n[Bob] Hello.\nCarol: One.\nCarol: Two.\nDan: Three."
    assert speakers(parse_transcript(text, voiced=[])) == ["Alice", "Bob", "Carol"]  # Dan's line is text
    tags = {tag.name: tag for tag in name_tags(text + " [S3] Four.")}
    assert [name for name, tag in tags.items() if tag.certain] == ["Alice", "Bob", "Carol", "S3"]
    assert tags["Carol"].colon_lines == (3, 4) and tags["Dan"].line == 5 and tags["S3"].is_s_tag


def test_the_transcript_as_read_reads_the_same_without_the_voices():
    turns, readings = read_transcript(PLAN, voiced=["S1", "S2"])
    written = as_read(PLAN, readings)
    assert written.splitlines()[1] == "  Remember: bring the tickets."
    assert parse_transcript(written) == turns  # line numbers kept


def test_turn_sources_keep_the_stage_directions_for_editing():
    assert turn_sources("[S1] Hi (laughs).\n  more\n[S2] Yo.") == [("S1", "Hi (laughs). more"), ("S2", "Yo.")]
    with pytest.raises(TranscriptError, match="has no text"):
        turn_sources("[S1]\n[S2] Yo.")
