"""How things are said: codes, numbers and keys spoken so that both front-ends agree.

Everything here turns a value into words for the ear. Codes are spoken as
characters separated by commas, because Twilio's neural voices ignore SSML
`say-as characters` while a comma-separated list is read one by one everywhere.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping

NATO = {
    "A": "Alpha", "B": "Bravo", "C": "Charlie", "D": "Delta", "E": "Echo", "F": "Foxtrot",
    "G": "Golf", "H": "Hotel", "I": "India", "J": "Juliett", "K": "Kilo", "L": "Lima",
    "M": "Mike", "N": "November", "O": "Oscar", "P": "Papa", "Q": "Quebec", "R": "Romeo",
    "S": "Sierra", "T": "Tango", "U": "Uniform", "V": "Victor", "W": "Whiskey", "X": "X-ray",
    "Y": "Yankee", "Z": "Zulu",
}  # fmt: skip

KEY_NAMES = {"*": "star", "#": "hash"}

# Speech runs at about 150 words a minute on the phone and in espeak-ng.
WORDS_PER_SECOND = 2.5


def characters(code: str) -> str:
    """'VL15A' -> 'V, L, 1, 5, A'."""
    return ", ".join(code.upper())


def nato(code: str, letter: str, digit: str) -> str:
    """Spell a code with NATO words, using the content's patterns for letters and digits."""
    parts = []
    for char in code.upper():
        if char in NATO:
            parts.append(letter.format(char=char, word=NATO[char]))
        else:
            parts.append(digit.format(char=char))
    return ", ".join(parts)


# The longest shared mailbox a home's record may hold: texts carry it, and their segment budgets
# are checked with a mailbox this long.
MAILBOX_LIMIT = 40


def mailbox_address(ods: str) -> str:
    """The shared mailbox address as written: care.<ods>@nhs.net in lower case."""
    return f"care.{ods.lower()}@nhs.net"


def spelled_address(address: str) -> str:
    """'care.vl15a@nhs.net' -> 'care dot, V, L, 1, 5, A, at, N H S dot net'.

    Whole words that a listener knows ('care', 'net') stay words; the rest is spelled in capitals,
    which every voice reads as letters. Commas put a pause between the parts and before and after
    'at', so the last letter does not run into it.
    """
    local, _, domain = address.partition("@")
    return f"{_spell_dotted(local, ', ', ' dot, ')}, at, {_spell_dotted(domain, ' ', ' dot ')}"


def _spell_dotted(text: str, between_letters: str, dot: str) -> str:
    spoken = []
    for part in text.split("."):
        if part.lower() in {"care", "net", "com", "uk", "org"}:
            spoken.append(part.lower())
        else:
            spoken.append(between_letters.join(part.upper()))
    return dot.join(spoken)


# Numbers are read the British way, digit by digit: nought as "oh".
DIGIT_WORDS = dict(
    zip("0123456789", ("oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"), strict=True)
)


def email_spoken(address: str) -> str:
    """'damon.habbin@nhs.net' -> 'damon dot habbin, at, N H S dot net': words stay words, the rest is spelled
    in capitals (read as letters), with a pause before and after 'at' as in `spelled_address`."""
    local, _, domain = address.partition("@")
    parts = [part if part.isalpha() and len(part) > 3 else ", ".join(part.upper()) for part in local.split(".")]
    return f"{' dot '.join(parts)}, at, {_spell_dotted(domain, ' ', ' dot ')}"


def digits_grouped(number: str) -> str:
    """'0333 200 1133' -> 'oh three three three, two oh oh, one one three three': grouped as written."""
    return ", ".join(" ".join(DIGIT_WORDS.get(digit, digit) for digit in group) for group in number.split())


def mobile_grouped(digits: str) -> str:
    """A UK mobile read back in the usual groups.

    '07400123456' -> 'oh seven four oh oh, one two three, four five six'.
    """
    if len(digits) == 11:
        return digits_grouped(f"{digits[:5]} {digits[5:8]} {digits[8:]}")
    return digits_grouped(digits)


def mentions(text: str, phrases: tuple[str, ...]) -> bool:
    """Whether `text` says any of `phrases` as whole words, in any case."""
    lowered = text.lower()  # a plain look first: most of what is said mentions none of them
    return any(phrase.lower() in lowered for phrase in phrases) and _mention_pattern(phrases).search(text) is not None


@functools.cache
def _mention_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    # Asked of every sentence said on a call, for each term of jargon: built once per term.
    return re.compile("|".join(rf"(?<!\w){re.escape(phrase)}(?!\w)" for phrase in phrases), re.IGNORECASE)


def key_name(key: str) -> str:
    return KEY_NAMES.get(key, key)


def word_count(text: str) -> int:
    return len(re.findall(r"[\w']+", text))


def sentences(text: str) -> list[str]:
    """A text cut into the sentences a listener hears, at full stops, question marks and exclamation marks."""
    return [part for part in re.split(r"(?<=[.?!])\s+", text.strip()) if part]


def seconds(text: str) -> float:
    return word_count(text) / WORDS_PER_SECOND


SPOKEN_DIGITS = {
    "zero": "0", "oh": "0", "nought": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9", "star": "*", "hash": "#",
}  # fmt: skip


def digits_from_speech(text: str) -> str:
    """What a caller said, as keys: 'one' -> '1', '0 7 4 0 0' -> '07400'. Other words are dropped."""
    keys = []
    for word in re.findall(r"[a-z]+|\d|[*#]", text.lower()):
        if word.isdigit() or word in "*#":
            keys.append(word)
        elif word in SPOKEN_DIGITS:
            keys.append(SPOKEN_DIGITS[word])
    return "".join(keys)


SPOKEN_LETTERS = {word.lower(): letter for letter, word in NATO.items()} | {"alfa": "A", "juliet": "J", "xray": "X"}
# Words a caller may say around a code that are not part of it ("L for Lima", "my code is ..., please").
FILLER = frozenset({
    "for", "as", "in", "and", "the", "is", "it", "its", "code", "my", "our", "letter", "number", "um", "er", "erm",
    "uh", "please", "thanks", "thank", "you", "that", "thats", "so", "ok", "okay", "ods",
})  # fmt: skip
# Numbers said as numbers: "fifteen", "twenty one".
TEENS = {"ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14", "fifteen": "15",
         "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19"}  # fmt: skip
TENS = {"twenty": "2", "thirty": "3", "forty": "4", "fifty": "5", "sixty": "6", "seventy": "7", "eighty": "8",
        "ninety": "9"}  # fmt: skip


def ods_from_speech(text: str) -> str | None:
    """An ODS code from what a caller said: letters, NATO words and digits, the V optional.

    'Victor Lima one five alpha', 'V L 1 5 A', 'L for Lima, double 5...' all count;
    anything that does not come to V plus four characters is None, and the caller is
    always asked to confirm on the keypad.
    """
    chars: list[str] = []
    double = False
    said = re.sub(r"\bo\W*d\W*s\W+code\b", "code", text.lower().replace("x-ray", "xray"))  # "O D S code is..."
    words = re.findall(r"[a-z0-9]+", said)
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else ""
        if word in FILLER:
            continue
        if word == "double":
            double = True
            continue
        if word in SPOKEN_LETTERS:
            letter = SPOKEN_LETTERS[word]
            if chars and chars[-1] == letter and not double:  # "L for Lima": one L
                continue
            found = [letter]
        elif word in SPOKEN_DIGITS and SPOKEN_DIGITS[word].isdigit():
            if index and words[index - 1] in TENS and SPOKEN_DIGITS[word] != "0":
                continue  # the unit of "twenty one", taken with the tens
            found = [SPOKEN_DIGITS[word]]
        elif word in TEENS:
            found = list(TEENS[word])
        elif word in TENS:
            unit = SPOKEN_DIGITS.get(following, "0")
            found = [TENS[word], unit if unit.isdigit() and unit != "0" else "0"]
        else:
            found = list(word.upper())
        chars.extend(found * 2 if double else found)
        double = False
    code = "".join(chars)
    if len(code) == 4 and not code.startswith("V"):  # the V left unsaid; "V L 1 5" is a code cut short
        code = "V" + code
    return code if re.fullmatch(r"V[A-Z0-9]{4}", code) else None


class Placeholders(dict[str, str]):
    """What each placeholder in a prompt is spoken as, each worked out only when a prompt names it.

    For `str.format_map`: a call's turn fills several prompts that name few or none of the caller's
    details, and working out all of them for each (a mobile's national form, most of all) was a tenth
    of a turn; `all()` gives every one at once, for `str.format(**values)`. Shared by the engine (the
    caller's own details) and the audio export and checks (example details), so a prompt listened to
    off the call sounds as it does on it. `keys` maps a key's name ('next') to its key ('1'); `mobile`
    is a national number (07...). An unknown name is a KeyError, as with `str.format`.
    """

    def __init__(
        self,
        keys: Mapping[str, str],
        helpdesk_number: str,
        *,
        ods: str | None = None,
        mailbox: str | None = None,
        mobile: str | None = None,
        ticket: str | None = None,
    ) -> None:
        super().__init__()
        self.named_keys = keys
        self.makers: dict[str, Callable[[], str]] = {
            "helpdesk": functools.partial(digits_grouped, helpdesk_number),
            "ods": functools.partial(characters, ods) if ods else str,
            "mailbox": functools.partial(spelled_address, mailbox) if mailbox else str,
            "mobile": functools.partial(mobile_grouped, mobile) if mobile else str,
            "ticket": functools.partial(characters, ticket) if ticket else str,
        }

    def __missing__(self, name: str) -> str:
        if name.startswith("key_") and name[4:] in self.named_keys:  # {key_next}: the name of the key for "next"
            value = key_name(self.named_keys[name[4:]])
        else:
            value = self.makers[name]()
        self[name] = value
        return value

    def all(self) -> dict[str, str]:
        return {name: self[name] for name in (*(f"key_{name}" for name in self.named_keys), *self.makers)}
