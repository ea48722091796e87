"""Reading a file of care homes: our simple CSV, the CQC locations sheet, or the NHS ODS care-home file.

`read_homes` turns one file into clean `HomeRecord`s plus the rows that are wrong, each with its physical line
number and a reason an operator can act on. It never touches the database: the import command decides what to do
with the result. A bad row never stops the reading, so one run shows every problem in the file; only a file that
cannot be used at all (unreadable, not text, an unknown layout, missing columns) raises `HomeFileError`.

The three layouts:

- simple: ours, with a header naming the columns ods_code, name, landline, mobile, mailbox, postcode in any
  order. ods_code and name are required; landline may hold several numbers separated by ';'.
- cqc: the CQC "HSCA Active Locations" sheet saved as CSV. Only rows marked "Care home?" Y are homes.
- ods: the NHS ODS care-home sites file (ecarehomesite.csv) as downloaded: 27 columns and no header.

Files are streamed with the csv module, so the national files (tens of thousands of rows) are not held in memory
as text and parse in a second or two.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import BinaryIO, Literal, TextIO, TypeAlias, TypeVar

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from ivr.engine.validators import ODS_CODE
from ivr.phone import uk_mobile
from ivr.speech import MAILBOX_LIMIT, mailbox_address

Layout = Literal["simple", "cqc", "ods"]
LAYOUTS: tuple[Layout, ...] = ("simple", "cqc", "ods")

MAX_NAME = 200
MAX_MAILBOX = MAILBOX_LIMIT  # texts carry the mailbox: their segment budgets allow for this length
MAX_POSTCODE = 10

# The simple layout's columns, as documented in the README.
SIMPLE_COLUMNS = ("ods_code", "name", "landline", "mobile", "mailbox", "postcode")
SIMPLE_REQUIRED = ("ods_code", "name")

# The CQC sheet's column names. Matched without regard to case or spacing, because CQC's own files disagree
# ("Care home?" in one, "Care Home?" in another).
CQC_MARKER = "Location ODS Code"
CQC_NAME = "Location Name"
CQC_CARE_HOME = "Care home?"
CQC_PHONE = "Location Telephone Number"
CQC_REQUIRED = (CQC_MARKER, CQC_NAME, CQC_CARE_HOME, CQC_PHONE)
CQC_POSTCODES = ("Location Postal Code", "Location Post Code")  # the first the sheet has is used
# Some exports put a title ("Source: CQC database as at ...") and blank lines above the header.
HEADER_SEARCH_LINES = 10

# The NHS ODS standard data file: no header, 27 columns; the ones read here, counted from 0.
ODS_COLUMN_COUNT = 27
ODS_COL_CODE = 0
ODS_COL_NAME = 1
ODS_COL_POSTCODE = 9
ODS_COL_CLOSE_DATE = 11
ODS_COL_PHONE = 17

# A full UK postcode once its spaces are removed: outward code (2 to 4 characters) then inward code (3).
POSTCODE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}")
# NHSmail addresses: a local part of letters, digits and the usual punctuation, always at nhs.net.
NHS_MAILBOX = re.compile(r"[a-z0-9][a-z0-9._'+-]*@nhs\.net")
# What Excel leaves in a CSV when it has turned a phone number into a number shown in scientific notation.
EXCEL_NUMBER = re.compile(r"\d[.,]\d*E\+?\d+", re.IGNORECASE)

# A landline is the number a home rings the helpdesk from: geographic numbers, the few ranges phonenumbers cannot
# tell from mobiles, and 03 numbers (UAN to phonenumbers), which some homes present.
LANDLINE_TYPES = frozenset({PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE, PhoneNumberType.UAN})
OTHER_TYPES = {
    PhoneNumberType.TOLL_FREE: "a freephone number",
    PhoneNumberType.PREMIUM_RATE: "an 084, 087 or 09 service number",  # phonenumbers puts 084 here for GB
    PhoneNumberType.SHARED_COST: "a shared-cost number",
    PhoneNumberType.VOIP: "an internet 056 number",
    PhoneNumberType.PERSONAL_NUMBER: "a personal 070 number",
    PhoneNumberType.PAGER: "a pager number",
}

LAYOUT_HELP = (
    "use one of: simple (our CSV, whose header names the columns ods_code,name,landline,mobile,mailbox,postcode); "
    "cqc (the CQC 'HSCA Active Locations' sheet saved as CSV, with its header row containing 'Location ODS Code'); "
    "ods (the NHS ODS file ecarehomesite.csv as downloaded: 27 columns, no header)"
)

T = TypeVar("T")


@dataclass(frozen=True)
class HomeRecord:
    ods: str  # 'V' and 4 upper-case letters or digits
    name: str
    landlines: tuple[str, ...] | None  # E.164; None: the file carries no landlines; (): it carries none for this home
    mobile: str | None  # E.164 (simple layout only)
    mailbox: str | None  # an override of the shared mailbox, lower-cased; None: care.<ods>@nhs.net
    postcode: str | None  # upper case, one space before the inward code where it is a full postcode
    line: int  # 1-based line in the file; 0 for a home given by record_from_fields


@dataclass(frozen=True)
class BadRow:
    line: int  # 1-based physical line in the file; 0 from record_from_fields
    reason: str  # what is wrong and what to fix; several problems on one row are joined with '; '


@dataclass(frozen=True)
class ParsedFile:
    layout: Layout
    homes: tuple[HomeRecord, ...]
    bad: tuple[BadRow, ...]
    skipped: int  # fine rows that are not homes to import: CQC locations that are not care homes, closed ODS sites
    rows: int  # data rows read (header and title lines are not counted); homes + bad + skipped


class HomeFileError(Exception):
    """The whole file cannot be used; the message names it and says what to do."""


class _Invalid(Exception):
    """One field of one row is wrong; the message is the reason the operator sees."""


# ---------------------------------------------------------------------------------------------------------------
# Reading the file


def read_homes(
    path: Path,
    *,
    layout: Layout | None = None,
    on_row: Callable[[int], None] | None = None,
) -> ParsedFile:
    """The homes in `path`, and its bad rows by line. `layout` None: work it out from the first lines.

    `on_row(n)` is called after each data row with the number read so far, for a progress bar.
    """
    path = Path(path)
    encoding = _encoding(path)
    try:
        with path.open(encoding=encoding, newline="") as handle:
            return _parse(path, handle, layout, on_row)
    except OSError as error:
        raise _unreadable(path, error) from error


def _unreadable(path: Path, error: OSError) -> HomeFileError:
    return HomeFileError(f"{path}: cannot be read ({error.strerror or error}); check the path and its permissions")


def _encoding(path: Path) -> str:
    """UTF-8 (with or without a byte-order mark) if the whole file decodes as it, else Windows-1252.

    Excel's plain "CSV" is Windows-1252, and CQC files saved from it often are. The file is checked to the end
    before parsing starts, so that an é on line 20,000 does not restart the reading half-way through.
    """
    try:
        with path.open("rb") as handle:
            start = handle.read(4)
            _refuse_non_text(path, start)
            handle.seek(0)
            if _decodes(handle, "utf-8-sig"):
                return "utf-8-sig"
            handle.seek(0)
            if _decodes(handle, "cp1252"):
                return "cp1252"
    except OSError as error:
        raise _unreadable(path, error) from error
    raise HomeFileError(f"{path}: is neither UTF-8 nor Windows-1252 text; save it again as 'CSV UTF-8'")


def _refuse_non_text(path: Path, start: bytes) -> None:
    if start.startswith(b"PK\x03\x04"):
        raise HomeFileError(f"{path}: is a spreadsheet (.xlsx or .ods) or a zip, not CSV; open it and save it as CSV")
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise HomeFileError(f"{path}: is UTF-16 text (Excel's 'Unicode Text'); save it as 'CSV UTF-8' instead")


def _decodes(handle: BinaryIO, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while chunk := handle.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _rows(path: Path, handle: TextIO) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank row with the physical line it starts on.

    A quoted field may hold line breaks, so a row can span lines: the reader's line count after the previous row,
    plus one, is where this one starts. Rows of nothing but commas, which Excel leaves below the data, are blank.
    """
    reader = csv.reader(handle)
    last = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise HomeFileError(f"{path}: line {last + 1} cannot be read as CSV ({error}); fix that line") from error
        start, last = last + 1, reader.line_num
        if any(cell.strip() for cell in cells):
            yield start, cells


def _parse(path: Path, handle: TextIO, layout: Layout | None, on_row: Callable[[int], None] | None) -> ParsedFile:
    rows = _rows(path, handle)
    head = list(islice(rows, HEADER_SEARCH_LINES))
    if not head:
        raise HomeFileError(f"{path}: is empty; there are no homes to read")
    chosen = layout or _detect(path, head)
    if chosen == "ods":
        if all(len(cells) != ODS_COLUMN_COUNT for _, cells in head):
            # --layout ods on another file: one clear refusal, not every row reported bad.
            first_line, first = head[0]
            raise HomeFileError(f"{path}: is not the ODS care-home file: line {first_line} has {len(first)} "
                                f"columns, not {ODS_COLUMN_COUNT}; {LAYOUT_HELP}")  # fmt: skip
        parser: _RowParser = _ods_row
        data: Iterable[tuple[int, list[str]]] = chain(head, rows)
    else:
        at = _header_index(path, head, chosen)
        line, header = head[at]
        parser = _simple_parser(path, line, header) if chosen == "simple" else _cqc_parser(path, line, header)
        data = chain(head[at + 1 :], rows)
    return _collect(chosen, data, parser, on_row)


def _collect(
    layout: Layout,
    data: Iterable[tuple[int, list[str]]],
    parser: _RowParser,
    on_row: Callable[[int], None] | None,
) -> ParsedFile:
    homes: list[HomeRecord] = []
    bad: list[BadRow] = []
    seen: dict[str, int] = {}  # ODS code -> the line it was first on
    skipped = count = 0
    for line, cells in data:
        count += 1
        result = parser(line, cells, seen)
        if result is None:
            skipped += 1
        elif isinstance(result, BadRow):
            bad.append(result)
        else:
            homes.append(result)
        if on_row is not None:
            on_row(count)
    return ParsedFile(layout=layout, homes=tuple(homes), bad=tuple(bad), skipped=skipped, rows=count)


def record_from_fields(
    *,
    ods: str,
    name: str,
    landlines: Iterable[str] = (),
    mobile: str = "",
    mailbox: str = "",
    postcode: str = "",
) -> HomeRecord | BadRow:
    """One home given field by field (a command's options), with the same checks as a row of the simple layout.

    Its line is 0: it comes from no file.
    """
    raw = _Raw(
        ods=ods,
        name=name,
        phones=";".join(landlines),
        phone_label="landline",
        several_phones=True,
        mobile_as_landline=False,
        mobile=mobile.strip(),
        mailbox=mailbox.strip(),
        postcode=postcode.strip(),
    )
    return _build(0, raw, {})


# ---------------------------------------------------------------------------------------------------------------
# Which layout


def _key(text: str) -> str:
    """A column name compared without regard to case or spacing."""
    return " ".join(text.split()).casefold()


def _detect(path: Path, head: list[tuple[int, list[str]]]) -> Layout:
    for line, cells in head:
        if line <= HEADER_SEARCH_LINES and _key(CQC_MARKER) in {_key(cell) for cell in cells}:
            return "cqc"
    first_line, first = head[0]
    if "ods_code" in {_key(cell) for cell in first}:
        return "simple"
    code = first[0].strip().upper()
    if len(first) == ODS_COLUMN_COUNT and ODS_CODE.fullmatch(code):
        return "ods"
    if len(first) == ODS_COLUMN_COUNT:
        # Another ODS file (GP practices, pharmacies...) has the same shape but other codes.
        raise HomeFileError(
            f"{path}: looks like an NHS ODS file, but line {first_line} starts {first[0]!r}, not a care-home code "
            "(V and 4 letters or digits); the care-home file is ecarehomesite.csv"
        )
    raise HomeFileError(
        f"{path}: cannot tell which layout this is (line {first_line} has {len(first)} columns, starting "
        f"{first[0][:40]!r}); {LAYOUT_HELP}"
    )


def _header_index(path: Path, head: list[tuple[int, list[str]]], layout: Layout) -> int:
    """Where the header row is in `head`: the first row for simple, the row naming 'Location ODS Code' for cqc."""
    if layout == "simple":
        return 0
    for index, (line, cells) in enumerate(head):
        if line <= HEADER_SEARCH_LINES and _key(CQC_MARKER) in {_key(cell) for cell in cells}:
            return index
    raise HomeFileError(
        f"{path}: no header row naming {CQC_MARKER!r} in the first {HEADER_SEARCH_LINES} lines; export the "
        "'HSCA Active Locations' sheet with its header row"
    )


def _columns(path: Path, line: int, header: list[str]) -> dict[str, int]:
    """Each column name (as `_key`) to its index; a name given twice makes the file ambiguous."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = _key(cell)
        if not name:
            continue
        if name in columns:
            raise HomeFileError(f"{path}: the header on line {line} has the column {cell.strip()!r} twice; keep one")
        columns[name] = index
    return columns


def _require(path: Path, line: int, columns: dict[str, int], required: Iterable[str], what: str) -> None:
    missing = [name for name in required if _key(name) not in columns]
    if missing:
        names = ", ".join(repr(name) for name in missing)
        raise HomeFileError(f"{path}: the header on line {line} has no {names} column; {what}")


# ---------------------------------------------------------------------------------------------------------------
# One row of each layout: a home, a bad row, or None for a row that is fine but not a home to import

_RowParser: TypeAlias = Callable[[int, list[str], dict[str, int]], HomeRecord | BadRow | None]


@dataclass(frozen=True)
class _Raw:
    """One row's fields as text, before they are checked."""

    ods: str
    name: str
    phones: str | None  # None: the file has no phone column
    phone_label: str  # what the phone column is called in reasons
    several_phones: bool  # the simple layout's landline column holds numbers separated by ';'
    mobile_as_landline: bool  # CQC and ODS list whatever number the home gave, sometimes a mobile
    mobile: str = ""
    mailbox: str = ""
    postcode: str = ""


def _cell(cells: list[str], index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    return cells[index].strip()


def _simple_parser(path: Path, line: int, header: list[str]) -> _RowParser:
    columns = _columns(path, line, header)
    _require(path, line, columns, SIMPLE_REQUIRED, f"the first line must name the columns {','.join(SIMPLE_COLUMNS)}")
    ods, name, landline, mobile, mailbox, postcode = (columns.get(column) for column in SIMPLE_COLUMNS)

    def parse(line: int, cells: list[str], seen: dict[str, int]) -> HomeRecord | BadRow:
        raw = _Raw(
            ods=_cell(cells, ods),
            name=_cell(cells, name),
            # Without a landline column the file says nothing about landlines, which is not the same as none.
            phones=None if landline is None else _cell(cells, landline),
            phone_label="landline",
            several_phones=True,
            mobile_as_landline=False,
            mobile=_cell(cells, mobile),
            mailbox=_cell(cells, mailbox),
            postcode=_cell(cells, postcode),
        )
        return _build(line, raw, seen)

    return parse


def _cqc_parser(path: Path, line: int, header: list[str]) -> _RowParser:
    columns = _columns(path, line, header)
    _require(path, line, columns, CQC_REQUIRED, "export the full 'HSCA Active Locations' sheet with its header row")
    ods, name, care_home, phone = (columns[_key(column)] for column in CQC_REQUIRED)
    postcode = next((columns[_key(column)] for column in CQC_POSTCODES if _key(column) in columns), None)

    def parse(line: int, cells: list[str], seen: dict[str, int]) -> HomeRecord | BadRow | None:
        # Most locations (home care agencies, surgeries...) are not care homes and many have no ODS code:
        # they are passed over before any check, so they do not bury the real problems.
        if _cell(cells, care_home).upper() != "Y" or not _cell(cells, ods):
            return None  # a care home with no ODS code yet cannot be matched by the helpdesk either
        raw = _national(_cell(cells, ods), _cell(cells, name), _cell(cells, phone), _cell(cells, postcode))
        return _build(line, raw, seen)

    return parse


def _ods_row(line: int, cells: list[str], seen: dict[str, int]) -> HomeRecord | BadRow | None:
    if len(cells) != ODS_COLUMN_COUNT:
        return BadRow(line, f"has {len(cells)} columns, not the {ODS_COLUMN_COUNT} of the ODS care-home file")
    if _cell(cells, ODS_COL_CLOSE_DATE):
        return None  # closed: nothing to import, and its details no longer matter
    # Names are kept as ODS gives them, in capitals. Title case cannot tell an acronym from a word ("MHA",
    # "NHS" would become "Mha", "Nhs", which the voice then mispronounces), while the voice reads a capitalised
    # word as the word.
    raw = _national(_cell(cells, ODS_COL_CODE), _cell(cells, ODS_COL_NAME), _cell(cells, ODS_COL_PHONE),
                    _cell(cells, ODS_COL_POSTCODE))  # fmt: skip
    return _build(line, raw, seen)


def _national(ods: str, name: str, phone: str, postcode: str) -> _Raw:
    """A row of a national file (CQC or ODS): one telephone number, whatever kind the home gave, and no contacts."""
    return _Raw(ods=ods, name=name, phones=phone, phone_label="telephone number", several_phones=False,
                mobile_as_landline=True, postcode=postcode)  # fmt: skip


def _build(line: int, raw: _Raw, seen: dict[str, int]) -> HomeRecord | BadRow:
    """Check every field of one row; all its problems are reported together, so one edit fixes the row."""
    problems: list[str] = []

    def take(check: Callable[[], T]) -> T | None:
        try:
            return check()
        except _Invalid as error:
            problems.append(str(error))
            return None

    ods = take(lambda: _ods_code(raw.ods))
    if ods is not None:
        # Recorded even when the row is bad for another reason: once that is fixed, it would still be a duplicate.
        first = seen.setdefault(ods, line)
        if first != line:
            problems.append(f"ODS code {ods} is already on line {first}")
    name = take(lambda: _name(raw.name))
    phones = raw.phones
    landlines = None if phones is None else take(lambda: _phones(phones, raw))
    mobile = take(lambda: _mobile(raw.mobile))
    mailbox = take(lambda: _mailbox(raw.mailbox, ods))
    postcode = take(lambda: _postcode(raw.postcode))
    if problems or ods is None or name is None:
        return BadRow(line, "; ".join(problems))
    return HomeRecord(
        ods=ods,
        name=name,
        landlines=landlines,
        mobile=mobile,
        mailbox=mailbox,
        postcode=postcode,
        line=line,
    )


# ---------------------------------------------------------------------------------------------------------------
# The fields: each returns the clean value or raises _Invalid with the reason


def _ods_code(text: str) -> str:
    code = text.strip().upper()
    if not code:
        raise _Invalid("ODS code is missing")
    if not ODS_CODE.fullmatch(code):
        raise _Invalid(f"ODS code {text.strip()!r} is not V plus 4 letters or digits")
    return code


def _name(text: str) -> str:
    # Runs of spaces and line breaks inside a quoted cell are made single spaces: the name is read aloud.
    name = " ".join(text.split())
    if not name:
        raise _Invalid("name is missing")
    if _has_control(name):
        # A control character cannot be stored in PostgreSQL (NUL) nor spoken in TwiML (XML refuses it).
        raise _Invalid("name holds a control character; retype it")
    if len(name) > MAX_NAME:
        raise _Invalid(f"name is {len(name)} characters long; shorten it to {MAX_NAME} at most")
    return name


def _phones(text: str, raw: _Raw) -> tuple[str, ...]:
    parts = text.split(";") if raw.several_phones else [text]
    numbers: list[str] = []
    problems: list[str] = []
    for part in (part.strip() for part in parts):
        if not part:
            continue
        try:
            number = _phone(part, raw.phone_label, mobile_ok=raw.mobile_as_landline)
        except _Invalid as error:
            problems.append(str(error))
            continue
        if number not in numbers:
            numbers.append(number)
    if problems:
        raise _Invalid("; ".join(problems))
    return tuple(numbers)


def _phone(text: str, label: str, *, mobile_ok: bool) -> str:
    """One number a home calls from, in E.164."""
    compact = re.sub(r"[\s()./-]", "", text)
    # A spreadsheet that took the column for numbers drops the leading 0: 1522123456 is 01522 123456.
    # phonenumbers happens to accept it without the 0 as well; putting it back does not rely on that.
    if compact.isdigit() and len(compact) in (9, 10) and not compact.startswith("0"):
        compact = "0" + compact
    try:
        number = phonenumbers.parse(compact, "GB")
    except NumberParseException:
        raise _not_a_number(text, label) from None
    # The national files hold tens of thousands of numbers, and phonenumbers is slow: the region is looked up once
    # and validity is read from the type below, rather than asking is_valid_number as well.
    region = phonenumbers.region_code_for_number(number)
    if region != "GB":
        if region is not None and phonenumbers.is_valid_number(number):
            raise _Invalid(f"{label} {text!r} is not a UK number; give the home's UK number")
        raise _not_a_number(text, label)
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.UNKNOWN:  # for a number in a known region, what is_valid_number tests
        raise _not_a_number(text, label)
    if kind == PhoneNumberType.MOBILE and not mobile_ok:
        raise _Invalid(f"{label} {text!r} is a mobile; put it in the mobile column")
    if kind not in LANDLINE_TYPES and kind != PhoneNumberType.MOBILE:
        what = OTHER_TYPES.get(kind, "not a landline")
        raise _Invalid(f"{label} {text!r} is {what}, not a line a home rings from; give the home's landline")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _not_a_number(text: str, label: str) -> _Invalid:
    if EXCEL_NUMBER.fullmatch(text.strip()):
        return _Invalid(
            f"{label} {text!r} was turned into a number by a spreadsheet; format the column as text and "
            "type the number again"
        )
    return _Invalid(f"{label} {text!r} is not a valid UK phone number; check the digits")


def _mobile(text: str) -> str | None:
    if not text:
        return None
    number = uk_mobile(text)
    if number is not None:
        return number
    try:
        _phone(text, "mobile", mobile_ok=False)
    except _Invalid:
        raise _Invalid(f"mobile {text!r} is not a UK mobile that can receive texts; check the digits") from None
    raise _Invalid(f"mobile {text!r} is a landline; put it in the landline column")


def _mailbox(text: str, ods: str | None) -> str | None:
    address = text.strip().lower()
    if not address:
        return None
    if not NHS_MAILBOX.fullmatch(address):
        raise _Invalid(f"mailbox {text!r} is not an @nhs.net address; leave it blank for care.<ODS code>@nhs.net")
    if len(address) > MAX_MAILBOX:
        raise _Invalid(f"mailbox is {len(address)} characters long; {MAX_MAILBOX} at most")
    # The usual address written out is no override: None keeps one place that knows the default.
    if ods is not None and address == mailbox_address(ods):
        return None
    return address


def _postcode(text: str) -> str | None:
    """'ln11aa' -> 'LN1 1AA'. Anything that is not a full postcode is kept as given, upper-cased: it is only shown."""
    upper = " ".join(text.upper().split())
    if not upper:
        return None
    compact = upper.replace(" ", "")
    if POSTCODE.fullmatch(compact):
        return f"{compact[:-3]} {compact[-3:]}"
    if len(upper) > MAX_POSTCODE or _has_control(upper):
        raise _Invalid(f"postcode {text.strip()!r} is not a postcode; give it as, for example, LN1 1AA")
    return upper


def _has_control(text: str) -> bool:
    return any(ord(char) < 0x20 or ord(char) == 0x7F for char in text)
