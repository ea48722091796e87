import pytest

from ivr import speech


def test_codes_are_read_as_characters() -> None:
    assert speech.characters("vl15a") == "V, L, 1, 5, A"


def test_nato_uses_the_given_patterns() -> None:
    spelled = speech.nato("VL15A", "{char} for {word}", "the number {char}")
    assert spelled == "V for Victor, L for Lima, the number 1, the number 5, A for Alpha"


def test_mailbox_is_spelled_for_the_ear() -> None:
    # A pause (a comma) between the parts, and before and after "at": the last letter never runs into it.
    assert speech.spelled_address("care.vl15a@nhs.net") == "care dot, V, L, 1, 5, A, at, N H S dot net"


def test_an_email_address_keeps_its_words_and_spells_the_rest_with_a_pause_before_at() -> None:
    assert speech.email_spoken("digital.team@nhs.net") == "digital dot team, at, N H S dot net"
    assert speech.email_spoken("jd.lincs2@lincs.nhs.uk") == "J, D dot L, I, N, C, S, 2, at, L I N C S dot N H S dot uk"


def test_numbers_are_read_the_british_way_in_groups() -> None:
    assert speech.digits_grouped("0333 200 1133") == "oh three three three, two oh oh, one one three three"
    assert speech.mobile_grouped("07400123456") == "oh seven four oh oh, one two three, four five six"


def test_sentences_are_cut_where_a_listener_hears_them_end() -> None:
    assert speech.sentences("Step 1 of 3. Can you log in? Yes!  ") == ["Step 1 of 3.", "Can you log in?", "Yes!"]


def test_jargon_is_found_as_whole_words() -> None:
    assert speech.mentions("Have your O D S code ready.", ("O D S",))
    assert not speech.mentions("GO D SOMETHING", ("O D S",))
    assert speech.mentions("the integrated care board said no", ("I C B", "integrated care board"))
    assert not speech.mentions("the integrated care boards", ("integrated care board",))


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
