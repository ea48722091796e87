from __future__ import annotations

from pathlib import Path

import pytest

from ivr.homes.files import BadRow, HomeFileError, HomeRecord, ParsedFile, read_homes, record_from_fields

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "homes"


# The bad rows of fixtures/homes/simple_bad.csv, by line: what the parser and `ivr homes import` must report.
SIMPLE_BAD_REASONS = {
    3: "ODS code 'X123' is not V plus 4 letters or digits",
    4: "name is missing",
    5: "landline '01522 12345' is not a valid UK phone number; check the digits",
    6: "landline '07400 123456' is a mobile; put it in the mobile column",
    7: "ODS code VLC10 is already on line 2",
    10: "mobile '01522 500106' is a landline; put it in the landline column",
    11: "mailbox 'someone@gmail.com' is not an @nhs.net address; leave it blank for care.<ODS code>@nhs.net",
    12: "ODS code 'vx' is not V plus 4 letters or digits; name is missing; "
    "landline '0800 123 4567' is a freephone number, not a line a home rings from; give the home's landline",
}


def write(tmp_path: Path, text: str, name: str = "homes.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def reasons(parsed: ParsedFile) -> dict[int, str]:
    return {bad.line: bad.reason for bad in parsed.bad}


def only_home(parsed: ParsedFile) -> HomeRecord:
    assert parsed.bad == (), parsed.bad
    assert len(parsed.homes) == 1
    return parsed.homes[0]


def ods_row(code: str = "VLC31", *, name: str = "THE OAKS", phone: str = "01522 530100", closed: str = "") -> str:
    cells = [""] * 27
    cells[0], cells[1], cells[9], cells[10], cells[11], cells[17] = code, name, "LN4 2AA", "20140401", closed, phone
    return ",".join(f'"{cell}"' for cell in cells) + "\n"


# --- simple ---------------------------------------------------------------------------------------------------


def test_simple_layout_gives_clean_records() -> None:
    parsed = read_homes(FIXTURES / "simple.csv")

    assert parsed.layout == "simple"
    assert parsed.bad == ()
    assert (parsed.rows, parsed.skipped) == (6, 0)  # the header and the blank line are not data rows
    assert parsed.homes == (
        HomeRecord("VLC01", "Wragby Road Care Home", ("+441522500100",), None, None, "LN2 4PX", line=2),
        HomeRecord(
            "VLC02", "Witham View Residential Home", ("+441205360200", "+441205360201"), None, None, "PE21 8QS", line=3
        ),
        HomeRecord(
            "VLC03", "Fenland Lodge Nursing Home", ("+441775720300",), "+447400123456", None, "PE11 2TB", line=5
        ),
        HomeRecord(
            "VLC04",
            "Wolds Edge House, Louth",
            ("+441507600400",),
            None,
            "wolds.edge.manager@nhs.net",
            "LN11 0AB",
            line=6,
        ),
        HomeRecord("VLC05", "Kesteven Court", (), None, None, "NG31 7XY", line=7),
        # An 03 number is a landline; the default mailbox written out is no override; a part postcode is kept.
        HomeRecord("VLC06", "Sleaford Grange", ("+443331234567",), None, None, "LN4", line=8),
    )


def test_simple_bad_rows_are_reported_by_line_with_what_to_fix() -> None:
    parsed = read_homes(FIXTURES / "simple_bad.csv")

    assert [home.ods for home in parsed.homes] == ["VLC10", "VLC15"]
    assert parsed.homes[1].name == "Two-line Name Home"
    assert parsed.homes[1].line == 8  # its quoted name runs over lines 8 and 9
    assert reasons(parsed) == SIMPLE_BAD_REASONS
    assert parsed.rows == len(parsed.homes) + len(parsed.bad) + parsed.skipped == 10


def test_the_sample_file_in_scripts_is_all_good() -> None:
    parsed = read_homes(ROOT / "scripts" / "sample-homes.csv")

    assert parsed.layout == "simple"
    assert parsed.bad == ()
    assert len(parsed.homes) == 5
    assert sum(home.mobile is not None for home in parsed.homes) == 1
    assert sum(home.mailbox is not None for home in parsed.homes) == 1


def test_simple_columns_in_any_order_and_no_landline_column_means_not_given(tmp_path: Path) -> None:
    path = write(tmp_path, "Postcode,Name,ODS_Code,Mobile\nln1 1aa,Bailgate House,VLC40,+44 7400 123456\n")

    home = only_home(read_homes(path))

    assert home == HomeRecord("VLC40", "Bailgate House", None, "+447400123456", None, "LN1 1AA", line=2)


def test_a_row_with_a_bad_code_still_claims_it_for_the_duplicate_check(tmp_path: Path) -> None:
    path = write(tmp_path, "ods_code,name,landline\nVLC41,First,01522 12345\nVLC41,Second,01522 500100\n")

    parsed = read_homes(path)

    assert parsed.homes == ()
    assert reasons(parsed)[3] == "ODS code VLC41 is already on line 2"


@pytest.mark.parametrize(
    ("landline", "reason"),
    [
        ("0800 123 4567", "is a freephone number"),
        ("0845 123 4567", "is an 084, 087 or 09 service number"),
        ("0560 123 4567", "is an internet 056 number"),
        ("+33 1 42 68 53 00", "is not a UK number"),
        ("hello", "is not a valid UK phone number"),
        ("1.52251E+09", "was turned into a number by a spreadsheet"),
        ("01522 500100; 01522 123", "'01522 123' is not a valid UK phone number"),
    ],
)
def test_landlines_that_are_refused(tmp_path: Path, landline: str, reason: str) -> None:
    path = write(tmp_path, f'ods_code,name,landline\nVLC42,Home,"{landline}"\n')

    assert reason in reasons(read_homes(path))[2]


def test_repeated_landlines_on_one_row_are_kept_once(tmp_path: Path) -> None:
    path = write(tmp_path, "ods_code,name,landline\nVLC43,Home,01522 500100;+441522500100;\n")

    assert only_home(read_homes(path)).landlines == ("+441522500100",)


@pytest.mark.parametrize(
    ("mobile", "reason"),
    [
        ("07624 123456", "is not a UK mobile that can receive texts"),  # Isle of Man
        ("07400 12345", "is not a UK mobile that can receive texts"),
        ("0333 123 4567", "is a landline; put it in the landline column"),
    ],
)
def test_mobiles_that_are_refused(tmp_path: Path, mobile: str, reason: str) -> None:
    path = write(tmp_path, f"ods_code,name,mobile\nVLC44,Home,{mobile}\n")

    assert reason in reasons(read_homes(path))[2]


def test_mailbox_override_is_lower_cased(tmp_path: Path) -> None:
    path = write(tmp_path, "ods_code,name,mailbox\nVLC45,Home,  Manager.Home@NHS.NET \n")

    assert only_home(read_homes(path)).mailbox == "manager.home@nhs.net"


@pytest.mark.parametrize(
    ("postcode", "expected"),
    [("ln11aa", "LN1 1AA"), ("  pe21   8qs ", "PE21 8QS"), ("SW1A2AA", "SW1A 2AA"), ("bfpo 57", "BFPO 57"), ("", None)],
)
def test_postcodes_are_tidied_but_odd_ones_kept(tmp_path: Path, postcode: str, expected: str | None) -> None:
    path = write(tmp_path, f"ods_code,name,postcode\nVLC46,Home,{postcode}\n")

    assert only_home(read_homes(path)).postcode == expected


def test_what_the_database_could_not_hold_is_a_bad_row(tmp_path: Path) -> None:
    # PostgreSQL refuses a NUL and an over-long value outright, and XML (TwiML) refuses control characters.
    path = write(tmp_path, "ods_code,name,postcode,mailbox\nVLC50,Ho\x00me,,\nVLC51,Home,Off Lincoln Road LN1,\n"
                           f"VLC52,Home,,{'a' * 120}@nhs.net\nVLC53,Home,LN1 1AA,\n")

    parsed = read_homes(path)

    assert [home.ods for home in parsed.homes] == ["VLC53"]
    assert reasons(parsed) == {
        2: "name holds a control character; retype it",
        3: "postcode 'Off Lincoln Road LN1' is not a postcode; give it as, for example, LN1 1AA",
        4: "mailbox is 128 characters long; 40 at most",
    }


def test_names_longer_than_200_characters_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, f"ods_code,name\nVLC47,{'x' * 200}\nVLC48,{'x' * 201}\n")

    parsed = read_homes(path)

    assert [home.ods for home in parsed.homes] == ["VLC47"]
    assert reasons(parsed) == {3: "name is 201 characters long; shorten it to 200 at most"}


def test_rows_of_nothing_but_commas_are_blank(tmp_path: Path) -> None:
    path = write(tmp_path, "ods_code,name,landline\r\n,,\r\nVLC49,Home,\r\n,,\r\n")

    parsed = read_homes(path)

    assert parsed.rows == 1
    assert only_home(parsed).line == 3


def test_a_utf8_file_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = write(tmp_path, "ods_code,name\nVLC50,Café Lodge\n", encoding="utf-8-sig")

    assert only_home(read_homes(path)).name == "Café Lodge"


# --- CQC ------------------------------------------------------------------------------------------------------


def test_cqc_layout_imports_care_homes_only() -> None:
    path = FIXTURES / "cqc_active_locations.csv"
    assert b"\x96" in path.read_bytes()  # the en dash as Windows-1252 writes it: the file is not UTF-8

    parsed = read_homes(path)

    assert parsed.layout == "cqc"
    assert parsed.homes == (
        # The telephone number lost its leading 0 in a spreadsheet.
        HomeRecord("VLC21", "Bramley Court \u2013 Residential", ("+441522511200",), None, None, "LN2 5AB", line=4),
        HomeRecord("VLC22", "Maison Élise", ("+441205311400",), None, None, "PE21 9XY", line=6),
        # A small home that lists a mobile rings from it.
        HomeRecord("VLC23", "Hartsholme Lodge", ("+447400654321",), None, None, "LN6 0AA", line=7),
        HomeRecord("VLC24", "Spalding Meadows", (), None, None, "PE11 3ZZ", line=8),
        HomeRecord("VLC26", "Skegness Sands Nursing Home", ("+441754760500",), None, None, "PE25 3EB", line=12),
    )
    # Lines 1 to 3 are the title, a row of commas and the header.
    assert reasons(parsed) == {
        9: "telephone number '01427 6102' is not a valid UK phone number; check the digits",
    }
    # The home care agency, the GP surgery, and a care home with no ODS code yet: a national file holds
    # hundreds of those, and reporting them as bad would bury the real problems (and fail every import).
    assert parsed.skipped == 3
    assert parsed.rows == 9


def test_cqc_header_on_the_first_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Location ID,Care Home?,Location Name,Location ODS Code,Location Telephone Number,Location Post Code\n"
        "1-1,Y,Ermine House,vlc51,1522 530300,ln1 3aa\n"
        "1-2,N,Ermine Home Care,,01522 530400,LN1 3AB\n",
    )

    parsed = read_homes(path)

    assert only_home(parsed) == HomeRecord("VLC51", "Ermine House", ("+441522530300",), None, None, "LN1 3AA", line=2)
    assert parsed.skipped == 1


def test_cqc_file_without_a_telephone_column_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "Location ID,Care home?,Location Name,Location ODS Code\n1-1,Y,Ermine House,VLC51\n")

    with pytest.raises(HomeFileError, match="no 'Location Telephone Number' column"):
        read_homes(path)


# --- ODS ------------------------------------------------------------------------------------------------------


def test_ods_layout_reads_open_sites() -> None:
    parsed = read_homes(FIXTURES / "ecarehomesite.csv")

    assert parsed.layout == "ods"
    assert parsed.homes == (
        HomeRecord("VLC31", "THE OAKS CARE HOME", ("+441522530100",), None, None, "LN4 2AA", line=1),
        HomeRecord("VLC33", "FEN VIEW RESIDENTIAL HOME", (), None, None, "PE11 1AA", line=3),
        HomeRecord("VLC34", "CLIFF HOUSE", ("+447400777888",), None, None, "LN5 9AA", line=4),
        HomeRecord("VLC36", "MHA ST. JOHN'S", ("+441522530200",), None, None, "LN1 1XG", line=7),
    )
    assert reasons(parsed) == {
        5: "ODS code 'X1234' is not V plus 4 letters or digits",
        6: "has 26 columns, not the 27 of the ODS care-home file",
    }
    assert parsed.skipped == 1  # Witham House closed in 2023
    assert parsed.rows == 7


def test_a_closed_site_does_not_count_as_the_first_of_a_code(tmp_path: Path) -> None:
    path = write(tmp_path, ods_row("VLC52", closed="20200101") + ods_row("VLC52"))

    parsed = read_homes(path)

    assert only_home(parsed).line == 2
    assert parsed.skipped == 1


def test_ods_duplicate_code(tmp_path: Path) -> None:
    path = write(tmp_path, ods_row("VLC53") + "\n" + ods_row("VLC53"))

    assert reasons(read_homes(path)) == {3: "ODS code VLC53 is already on line 1"}


# --- layouts and files that cannot be used --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "layout"),
    [("simple.csv", "simple"), ("cqc_active_locations.csv", "cqc"), ("ecarehomesite.csv", "ods")],
)
def test_each_layout_is_detected_and_can_be_named(name: str, layout: str) -> None:
    detected = read_homes(FIXTURES / name)

    assert detected.layout == layout
    assert read_homes(FIXTURES / name, layout=detected.layout) == detected


def test_naming_the_wrong_layout_is_refused() -> None:
    with pytest.raises(HomeFileError, match="no 'ods_code', 'name' column"):
        read_homes(FIXTURES / "cqc_active_locations.csv", layout="simple")
    with pytest.raises(HomeFileError, match="no header row naming 'Location ODS Code'"):
        read_homes(FIXTURES / "simple.csv", layout="cqc")


def test_naming_the_ods_layout_for_another_file_refuses_the_file_not_each_row() -> None:
    with pytest.raises(HomeFileError) as raised:
        read_homes(FIXTURES / "simple.csv", layout="ods")

    assert "is not the ODS care-home file: line 1 has 7 columns, not 27" in str(raised.value)


def test_an_ods_file_with_one_short_row_still_reports_just_that_row(tmp_path: Path) -> None:
    good = ["VLC31", "THE OAKS"] + [""] * 7 + ["LN1 1AA"] + [""] * 17
    path = write(tmp_path, ",".join(good) + "\n" + "VLC32,SHORT ROW\n")

    parsed = read_homes(path, layout="ods")

    assert [home.ods for home in parsed.homes] == ["VLC31"]
    assert parsed.bad == (BadRow(2, "has 2 columns, not the 27 of the ODS care-home file"),)


def test_unknown_layout_names_the_three(tmp_path: Path) -> None:
    path = write(tmp_path, "code,home\nVLC01,Somewhere\n")

    with pytest.raises(HomeFileError) as raised:
        read_homes(path)

    message = str(raised.value)
    assert str(path) in message
    assert "simple (" in message and "cqc (" in message and "ods (" in message


def test_another_ods_file_is_told_apart(tmp_path: Path) -> None:
    path = write(tmp_path, ods_row("A81001", name="THE DENSHAM SURGERY"))

    with pytest.raises(HomeFileError, match=r"not a care-home code.*ecarehomesite\.csv"):
        read_homes(path)


def test_simple_file_missing_the_name_column(tmp_path: Path) -> None:
    path = write(tmp_path, "ods_code,landline\nVLC01,01522 500100\n")

    with pytest.raises(HomeFileError, match="line 1 has no 'name' column"):
        read_homes(path)


def test_a_column_given_twice_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "ods_code,name,landline,Landline\nVLC01,Home,01522 500100,01522 500101\n")

    with pytest.raises(HomeFileError, match="'Landline' twice"):
        read_homes(path)


@pytest.mark.parametrize("text", ["", "\n\n", ",,,\r\n"])
def test_an_empty_file_is_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(HomeFileError, match="is empty"):
        read_homes(write(tmp_path, text))


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HomeFileError, match="cannot be read"):
        read_homes(tmp_path / "nowhere.csv")


def test_a_spreadsheet_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "homes.xlsx"
    path.write_bytes(b"PK\x03\x04" + bytes(100))

    with pytest.raises(HomeFileError, match="save it as CSV"):
        read_homes(path)


def test_bytes_that_are_neither_utf8_nor_windows_1252_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "homes.csv"
    path.write_bytes(b"ods_code,name\nVLC01,Bad \x81 byte\n")  # 0x81 is unassigned in Windows-1252

    with pytest.raises(HomeFileError, match="neither UTF-8 nor Windows-1252"):
        read_homes(path)


def test_on_row_counts_every_data_row() -> None:
    seen: list[int] = []

    parsed = read_homes(FIXTURES / "cqc_active_locations.csv", on_row=seen.append)

    assert seen == list(range(1, parsed.rows + 1))
    assert parsed.rows == len(parsed.homes) + len(parsed.bad) + parsed.skipped


# --- one home given field by field ----------------------------------------------------------------------------


def test_one_home_from_fields_has_the_simple_layouts_checks() -> None:
    record = record_from_fields(
        ods=" vlc60 ", name="Bailgate House", landlines=("01522 500100", "01522 500101"), mobile="07400 123456"
    )

    assert record == HomeRecord(
        "VLC60", "Bailgate House", ("+441522500100", "+441522500101"), "+447400123456", None, None, line=0
    )


def test_one_home_from_fields_reports_every_problem() -> None:
    record = record_from_fields(ods="VLC6", name="", landlines=("07400 123456",), mailbox="x@example.com")

    assert isinstance(record, BadRow)
    assert record.line == 0
    assert record.reason == (
        "ODS code 'VLC6' is not V plus 4 letters or digits; name is missing; "
        "landline '07400 123456' is a mobile; put it in the mobile column; "
        "mailbox 'x@example.com' is not an @nhs.net address; leave it blank for care.<ODS code>@nhs.net"
    )
