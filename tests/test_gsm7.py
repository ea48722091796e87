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
