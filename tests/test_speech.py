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
