import pytest

from ivr import speech


def test_codes_are_read_as_characters() -> None:
    assert speech.characters("vl15a") == "V, L, 1, 5, A"


def test_nato_uses_the_given_patterns() -> None:
    spelled = speech.nato("VL15A", "{char} for {word}", "the number {char}")
    assert spelled == "V for Victor, L for Lima, the number 1, the number 5, A for Alpha"


def test_mailbox_is_spelled_for_the_ear() -> None:
    assert speech.spelled_address("care.vl15a@nhs.net") == "care dot v, l, 1, 5, a at n, h, s dot net"


def test_numbers_are_read_in_groups() -> None:
    assert speech.digits_grouped("0333 200 1133") == "0 3 3 3, 2 0 0, 1 1 3 3"
    assert speech.mobile_grouped("07400123456") == "0 7 4 0 0, 1 2 3, 4 5 6"


def test_spoken_digits_become_keys() -> None:
    assert speech.digits_from_speech("oh seven four, 0 0 one hash") == "07400 1#".replace(" ", "")
    assert speech.digits_from_speech("yes please") == ""


def test_keys_have_names() -> None:
    assert [speech.key_name(k) for k in "*#5"] == ["star", "hash", "5"]


@pytest.mark.parametrize(
    ("said", "code"),
    [
        ("victor lima one five alpha", "VL15A"),
        ("V L 1 5 A", "VL15A"),
        ("V L 15 A", "VL15A"),
        ("VL15A", "VL15A"),
        ("lima one five alpha", "VL15A"),  # the V left unsaid
        ("L for Lima, 1, 5, A for Alpha", "VL15A"),
        ("V L fifteen A", "VL15A"),
        ("victor lima twenty one alpha", "VL21A"),
        ("victor x-ray double five alpha", "VX55A"),
        ("my O D S code is V D 1 2 S, please", "VD12S"),  # D and S of the code are kept
        ("Victor oh one two three", "V0123"),
        ("VL15", None),  # cut short: not V plus the V of a code
        ("V L 1 5 A B", None),
        ("I don't know", None),
        ("", None),
    ],
)
def test_an_ods_code_from_speech(said: str, code: str | None) -> None:
    assert speech.ods_from_speech(said) == code
