from ivr import gsm7


def test_single_segment_holds_160_characters() -> None:
    assert gsm7.count("a" * 160) == gsm7.SegmentCount("GSM-7", 160, 1)


def test_split_texts_hold_153_per_segment() -> None:
    assert gsm7.count("a" * 161).segments == 2
    assert gsm7.count("a" * 306).segments == 2
    assert gsm7.count("a" * 307).segments == 3


def test_extension_characters_count_twice() -> None:
    counted = gsm7.count("{}" + "a" * 156)
    assert counted.units == 160 and counted.segments == 1
    assert gsm7.count("€" + "a" * 159).segments == 2


def test_characters_outside_gsm7_force_ucs2() -> None:
    text = "It\u2019s ready"  # a curly apostrophe
    assert gsm7.non_gsm7(text) == ["\u2019"]
    counted = gsm7.count(text)
    assert counted.encoding == "UCS-2" and counted.segments == 1
    assert gsm7.count("\u2019" + "a" * 70).segments == 2


def test_pound_sign_and_newlines_are_gsm7() -> None:
    assert gsm7.non_gsm7("£5\nok") == []


def test_an_extension_character_is_never_cut_between_parts() -> None:
    # 152 + 2 + 152 = 306 septets would fit two parts of 153, but '{' would straddle them.
    counted = gsm7.count("a" * 152 + "{" + "a" * 152)
    assert counted.units == 306 and counted.segments == 3
    assert gsm7.count("a" * 151 + "{" + "a" * 153).segments == 2  # '{' ends the first part exactly


def test_a_surrogate_pair_is_never_cut_between_parts() -> None:
    emoji = "\U0001f600"  # two UTF-16 units
    assert gsm7.count("x" * 66 + emoji + "x" * 66).segments == 3
    assert gsm7.count("x" * 65 + emoji + "x" * 67).segments == 2


def test_typed_names_are_made_plain_for_a_text() -> None:
    assert gsm7.plain("St Mary\u2019s \u2013 \u201cThe Rise\u201d") == "St Mary's - \"The Rise\""
    assert gsm7.plain("Caf\u00e9 \u00c9lan") == "Caf\u00e9 \u00c9lan"  # é and É are GSM-7 already
    assert gsm7.plain("Home \u2603") == "Home ?"
    assert gsm7.plain("\u00c1ras \u00d3g, Cr\u00e8che \u0141\u00f3d\u017a") == "Aras Og, Cr\u00e8che ?odz"
    assert gsm7.non_gsm7(gsm7.plain("\u0141\u00f3d\u017a \u2603 \u00a0")) == []
