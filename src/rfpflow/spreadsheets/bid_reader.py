"""Reading a returned bid-response workbook into a :class:`rfpflow.model.Bid`.

See :mod:`rfpflow.builtins.xlsx_bids` for the rules a vendor's workbook must
follow and the decisions taken for odd ones. This module turns the rows given
by :mod:`rfpflow.spreadsheets.fast_reader` into a bid, collecting every problem of the
workbook before refusing it, so the officer can send the vendor one list.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import zipfile
from collections.abc import Callable, Generator, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError
from xml.parsers.expat import ExpatError

import attrs
from defusedxml import DefusedXmlException

from rfpflow.bids import name_slug
from rfpflow.bulk import gc_paused
from rfpflow.errors import InputFileError, Problem
from rfpflow.model import Answer, Bid, Certification, LineItem, PriceLine, Question, Rfp
from rfpflow.spreadsheets.cells import (
    CellValueError,
    MissingValue,
    is_blank,
    parse_date,
    parse_integer,
    parse_number,
    parse_text,
    parse_yes_no,
)
from rfpflow.spreadsheets.fast_reader import (
    HEAD_ROWS,
    Book,
    FastBook,
    NotCanonical,
    OpenpyxlBook,
    SheetDamaged,
    SheetRow,
    Want,
    column_letter,
)
from rfpflow.spreadsheets.filecheck import (
    Limits,
    WorkbookFileInfo,
    check_workbook_file,
    check_xml_safety,
    verify_members,
)
from rfpflow.spreadsheets.layout import (
    CERTIFICATIONS_TABLE,
    COMPANY_FIELDS,
    COMPANY_TABLE,
    FORMAT_VERSION,
    METADATA,
    PRICING_TABLE,
    QUESTIONNAIRE_TABLE,
    READERS,
    SHEET_ALIASES,
    TOTAL_LABELS,
    FieldSpec,
    TableSpec,
    label_key,
    label_keys,
)
from rfpflow.spreadsheets.mapping import parse_mapping
from rfpflow.uscc import check_character, normalize_uscc, validate_uscc

__all__ = [
    "BLANK_RUN",
    "MAX_AMOUNT",
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "MAX_EXTRA_ROWS",
    "READERS",
    "REPORTED",
    "number_of",
    "read_bid_workbook",
    "vendor_id_for",
]

BLANK_RUN = 20
"""A table ends after this many rows without a value in its columns."""
MAX_COLUMNS = 40
"""Columns searched for headers; a table's own columns must lie within them."""
MAX_EXTRA_ROWS = 1000
"""Rows a table may have beyond what the RFP asks (notes, blank lines, extras);
a table with more is cut there and refused (a hostile or runaway file)."""
MAX_CELL_CHARS = 32767
"""Excel's limit for the text of one cell; longer text is refused."""
MAX_AMOUNT = Decimal(10) ** 15
_MAX_INT_AMOUNT = 10**15
"""Amounts (prices, capital, turnover) and counts must stay below this: a
spreadsheet keeps 15 significant digits, so a larger number cannot hold cents
exactly -- and no bid has such a price. Larger ones are refused as typos."""
_LIMITS = Limits()
_BAD = Decimal(-1)

_FORMULA = (
    "is a formula without a calculated value; open and save the workbook in Excel or LibreOffice "
    "(rfpflow reads the values a spreadsheet program calculated, it never calculates formulas itself)"
)
_CHINA = frozenset(label_key(t) for t in (
    "China", "CN", "CHN", "PRC", "P.R.C.", "P.R. China", "People's Republic of China", "Mainland China",
    "中国", "中华人民共和国", "中国大陆", "中國",
))
REPORTED: Any = object()
"""What :meth:`_BidReader.value` returns for a cell whose problem it reported."""
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def read_bid_workbook(
    path: Path,
    rfp: Rfp,
    *,
    reader: str = "fast",
    display: str | None = None,
    limits: Limits = _LIMITS,
) -> Bid:
    """Read one vendor's bid-response workbook; raise :class:`InputFileError`
    with every problem found when it cannot be accepted.

    ``reader`` chooses how cells are read: ``"fast"`` (a streaming scanner,
    falling back to openpyxl for XML it does not read) or ``"openpyxl"``.
    Both give the same bid. ``display`` is the file name used in messages
    (default: the file's name).
    """
    if reader not in READERS:
        raise ValueError(f"reader must be one of {READERS}, not {reader!r}")
    path = Path(path)
    name = display or path.name
    check_xml_safety()
    try:
        if reader == "openpyxl":
            return _read_with(OpenpyxlBook, path, rfp, check_workbook_file(path, limits=limits), name, limits)
        # The fast reader bounds and CRC-checks what it unpacks, so large parts are not
        # unpacked twice; openpyxl does not, so it waits for the full checks.
        info = check_workbook_file(path, limits=limits, defer_large=True)
        try:
            with gc_paused():  # a large sheet makes hundreds of thousands of small records, none in a cycle
                return _read_with(FastBook, path, rfp, info, name, limits)
        except NotCanonical:
            # openpyxl's objects do form cycles: it reads with the collector running.
            verify_members(path, info.unverified, limits=limits)
            return _read_with(OpenpyxlBook, path, rfp, attrs.evolve(info, unverified=()), name, limits)
    except InputFileError as exc:
        raise _named(exc, path, name) from None


def _named(exc: InputFileError, path: Path, name: str) -> InputFileError:
    """The error with the file called by its display name (the file checks
    name it by its path)."""
    if all(p.file == name for p in exc.problems):
        return exc
    problems = [attrs.evolve(p, file=name) for p in exc.problems]
    count = len(problems)
    return InputFileError(f"{name}: {count} problem{'s' if count != 1 else ''}", problems)


def _read_with(
    factory: Callable[..., Book], path: Path, rfp: Rfp, info: WorkbookFileInfo, name: str, limits: Limits
) -> Bid:
    """Read with one reader. Members the file checks left unverified are
    verified before the bid is returned -- and, when reading fails, before
    the reader's own error, so damage is reported as the checks word it."""
    try:
        book = factory(path, limits=limits)
    except (SheetDamaged, ParseError, ExpatError, DefusedXmlException, zipfile.BadZipFile, LookupError, ValueError,
            TypeError, OSError, AttributeError, IndexError):
        verify_members(path, info.unverified, limits=limits)
        raise _damaged(name, None) from None  # a part every sheet needs (styles, shared strings) is damaged
    with book:
        try:
            bid = _BidReader(book, rfp, info, name).read()
        except SheetDamaged as exc:
            verify_members(path, info.unverified, limits=limits)
            raise _damaged(name, exc.sheet) from None
        except InputFileError:
            verify_members(path, info.unverified, limits=limits)
            raise
        verify_members(path, set(info.unverified) - book.read_to_end, limits=limits, zf=book.zf)
        return bid


def _damaged(name: str, sheet: str | None) -> InputFileError:
    where = f"sheet {sheet} is damaged" if sheet else "its structure is damaged"
    return InputFileError(f"{name}: 1 problem", [Problem(
        f"could not be read as an Excel workbook ({where}); open it in Excel or LibreOffice and save it again "
        "as .xlsx", file=name, place=sheet)])


def vendor_id_for(file_name: str, registration_no: str | None, vendor_name: str) -> str:
    """A first vendor id for a bid, from who wrote it, never from the file name: a slug of the
    vendor's name (``Acme Hotline Services Ltd.`` → ``acme``), else ``vendor`` (the workflow
    then numbers it: ``vendor-1``). The workflow keeps one id per vendor across the cycle (:mod:`rfpflow.bids`)."""
    return name_slug(vendor_name) or "vendor"


def _only_check_character(code: str) -> bool:
    """Whether an 18-character code is wrong only in its check character (a typo a reviewer can settle)."""
    if len(code) != 18:
        return False
    try:
        expected = check_character(code[:17])
    except (KeyError, ValueError, IndexError):
        return False
    return expected != code[17] and validate_uscc(code[:17] + expected) is None


def _slug(text: str) -> str:
    s = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")


def number_of(value: Any, label: str, decimal_comma: bool = False, currency: str | None = None) -> Decimal:
    """:func:`rfpflow.spreadsheets.cells.parse_number`, with a short path giving the same
    result for the ints and plain floats a reader returns for number cells."""
    kind = type(value)
    if kind is float:
        text = format(value, ".15g")
        if "e" not in text and "n" not in text and value != 0:  # exponents, inf, nan and zero: the long way
            return Decimal(text)
    elif kind is int:
        return Decimal(value)
    return parse_number(value, label, decimal_comma=decimal_comma, currency=currency)


def _note_text(value: Any) -> str:
    """A comment or added cell as text (numbers as written: 0.05, not 0.05000000000000000277)."""
    if value is None or value is REPORTED:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return format(value, ".15g")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return " ".join(str(value).split())[:MAX_CELL_CHARS]


def _choice_key(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().casefold()


def _id_key(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


@attrs.define
class _Table:
    sheet: str
    header_row: int
    columns: dict[str, int]
    rows: Iterator[SheetRow]
    extras: dict[int, str] = attrs.field(factory=dict)  # columns the vendor added: number -> header

    def place(self, key: str, row: int) -> str:
        return f"{self.sheet}!{column_letter(self.columns[key])}{row}"


class _BidReader:
    def __init__(self, book: Book, rfp: Rfp, info: WorkbookFileInfo, name: str) -> None:
        self.book = book
        self.rfp = rfp
        self.info = info
        self.name = name
        self.problems: list[Problem] = []
        self.warnings: list[str] = list(info.warnings)
        self.mapping = parse_mapping(rfp.import_mapping)
        self.sheets: dict[str, str] = {}
        for sheet in book.sheet_names():
            self.sheets.setdefault(label_key(sheet), sheet)

    # -- reporting --------------------------------------------------------

    def problem(self, message: str, place: str | None) -> None:
        self.problems.append(Problem(message, file=self.name, place=place))

    def fatal(self, message: str, place: str | None = None) -> InputFileError:
        return InputFileError(f"{self.name}: 1 problem", [Problem(message, file=self.name, place=place)])

    # -- the whole workbook -----------------------------------------------

    def read(self) -> Bid:
        self.check_metadata()
        fields, cells = self.company()
        certifications = self.certifications()
        before_answers = len(self.problems)
        answers = self.questionnaire()
        before_prices = len(self.problems)
        prices = self.pricing()
        envelope = self.envelope(answers, prices, before_answers, before_prices)
        if self.problems:
            count = len(self.problems)
            raise InputFileError(f"{self.name}: {count} problem{'s' if count != 1 else ''}", self.problems)
        vendor_name = str(fields["vendor_name"])
        registration = fields.get("registration_no")
        return Bid(
            vendor_id=vendor_id_for(self.name, registration if isinstance(registration, str) else None, vendor_name),
            vendor_name=vendor_name,
            source_file=self.name,
            fields=fields,
            certifications=certifications,
            answers=answers,
            prices=prices,
            cells=cells,
            warnings=tuple(self.warnings),
            envelope=envelope,
        )

    def envelope(self, answers: tuple[Answer, ...], prices: tuple[PriceLine, ...], before_answers: int,
                 before_prices: int) -> str:
        """In a two-envelope RFP, which envelope a workbook holds when it holds one: "technical" when
        every price is blank, "financial" when every answer is blank (the blanks are then not problems)."""
        if not self.rfp.two_envelope:
            return ""
        answer_problems = self.problems[before_answers:before_prices]
        price_problems = self.problems[before_prices:]
        if (not prices and self.rfp.line_items and price_problems
                and all(p.message.endswith(" is blank") for p in price_problems)):
            del self.problems[before_prices:]
            return "technical"
        if (prices and not any(a.answer for a in answers) and self.rfp.questionnaire
                and all("is mandatory and has no answer" in p.message for p in answer_problems)):
            del self.problems[before_answers:before_prices]
            return "financial"
        return ""

    def sheet(self, canonical: str) -> str | None:
        mapped = self.mapping.sheets.get(canonical, ()) if self.mapping else ()
        for alias in (*mapped, *SHEET_ALIASES.get(canonical, (canonical,))):
            found = self.sheets.get(label_key(alias))
            if found is not None:
                return found
        return None

    def check_metadata(self) -> None:
        rfp = self.rfp
        sheet = self.sheet(METADATA)
        if sheet is None and self.mapping is not None:
            self.warnings.append("no rfpflow metadata sheet: read through [import.mapping] of rfp.toml, so the "
                                 "RFP and the version of the definition the vendor answered cannot be checked")
            return
        if sheet is None:
            raise self.fatal(
                f"is not an rfpflow bid-response workbook for RFP {rfp.id} (no metadata sheet); send the vendor "
                "the workbook from `rfpflow issue`")
        want = Want(2)
        meta: dict[str, Any] = {}
        for row in self.book.rows(sheet, want, BLANK_RUN):
            key = row.values.get(1)
            if isinstance(key, str) and label_key(key) not in meta:
                meta[label_key(key)] = row.values.get(2)
        version = meta.get("format")
        if not isinstance(version, int) or isinstance(version, bool):
            raise self.fatal(
                f"is not an rfpflow bid-response workbook for RFP {rfp.id} (its metadata sheet was changed); send "
                "the vendor the workbook from `rfpflow issue`", place=sheet)
        if version > FORMAT_VERSION:
            raise self.fatal(
                f"was made by a newer version of rfpflow (workbook format {version}, this one reads up to "
                f"{FORMAT_VERSION}); upgrade rfpflow", place=sheet)
        their_id = meta.get("rfp_id")
        if their_id != rfp.id:
            raise self.fatal(
                f"is the bid-response workbook of RFP {their_id}, not of RFP {rfp.id}; check that the file was "
                f"sent for this RFP, or send the vendor the workbook of RFP {rfp.id}", place=sheet)
        their_hash = meta.get("definition_hash")
        their_hash = their_hash if isinstance(their_hash, str) else ""
        if their_hash != rfp.definition_hash:
            raise self.fatal(
                f"was made for an earlier version of the RFP definition ({their_hash[:12]}…); the RFP was "
                "amended — ask the vendor to resubmit on the current workbook", place=sheet)

    # -- tables -----------------------------------------------------------

    def table(self, spec: TableSpec, read: tuple[str, ...], *, expected: int = 0,
              required: bool = True, report: bool = True, extras: bool = False) -> _Table | None:
        """Find a table by its header row; then read only the columns ``read``,
        and at most ``expected`` + :data:`MAX_EXTRA_ROWS` rows."""
        limit = expected + MAX_EXTRA_ROWS
        sheet = self.sheet(spec.sheet)
        if sheet is None:
            if required:
                self.problem(f"the {spec.sheet} sheet is missing (was it deleted or renamed?); ask the vendor to "
                             "fill in the workbook from `rfpflow issue`", None)
            return None
        want = Want(MAX_COLUMNS)
        rows = self.book.rows(sheet, want, BLANK_RUN)
        keyed = {k: column.key for column in spec.columns for k in column.labels}
        if self.mapping is not None:
            for key, names in self.mapping.columns.get(spec.sheet, {}).items():
                keyed.update((k, key) for name in names for k in label_keys(name))
            if spec is COMPANY_TABLE:
                keyed.update((k, "value") for name in self.mapping.value_column for k in label_keys(name))
        for row in rows:
            if row.number > HEAD_ROWS:
                break
            columns: dict[str, int] = {}
            for column_number in sorted(row.values):
                for key in label_keys(row.values[column_number]):
                    field = keyed.get(key)
                    if field is not None and field not in columns:
                        columns[field] = column_number
                        break
            if all(c.key in columns for c in spec.columns if c.required):
                added: dict[int, str] = {}
                if extras:  # a column the vendor added (a header of its own): read, so nothing is dropped
                    known = set(columns.values())
                    for column_number, header in sorted(row.values.items()):
                        if column_number not in known and isinstance(header, str) and header.strip():
                            added[column_number] = " ".join(header.split())[:100]
                columns = {k: v for k, v in columns.items() if k in read}
                want.narrow(set(columns.values()) | set(added))
                return _Table(sheet, row.number, columns, self._watch(sheet, rows, limit), added)
        if isinstance(rows, Generator):
            rows.close()
        if not report:
            return None
        headers = ", ".join(f'"{c.en}"' for c in spec.columns if c.required)
        self.problem(f"the {spec.sheet} sheet has no header row naming the columns {headers} in its first "
                     f"{HEAD_ROWS} rows (were the headers changed?)", sheet)
        return None

    def _watch(self, sheet: str, rows: Iterator[SheetRow], limit: int) -> Iterator[SheetRow]:
        """The table's rows; notes hidden ones, stops after ``limit`` rows."""
        hidden: list[int] = []
        for count, row in enumerate(rows, start=1):
            if count > limit:
                self.problem(f"the {sheet} sheet has more than {limit:,} rows with values below its header; "
                             "the rest was not read — ask the vendor to remove the rows that are not part of the "
                             "bid", f"{sheet}!{row.number}:{row.number}")
                break
            if row.hidden and any(not is_blank(v) for v in row.values.values()):
                hidden.append(row.number)
            yield row
        if hidden:
            shown = ", ".join(str(n) for n in hidden[:10]) + (", ..." if len(hidden) > 10 else "")
            self.warnings.append(f"{sheet}: hidden row{'s' if len(hidden) > 1 else ''} {shown} hold values that "
                                 "were read; check them with the vendor")

    def value(self, table: _Table, row: SheetRow, key: str, label: str) -> Any:
        """The raw value of a table cell (None when blank or the column is
        absent), or :data:`REPORTED` after reporting a formula without value
        or an over-long text."""
        column = table.columns.get(key)
        if column is None:
            return None
        if column in row.uncached:
            self.problem(f"{label} {_FORMULA}", table.place(key, row.number))
            return REPORTED
        raw = row.values.get(column)
        if isinstance(raw, str) and "_x" in raw:
            raw = _XSTRING.sub(_xstring, raw)
        if isinstance(raw, str) and len(raw) > MAX_CELL_CHARS:
            self.problem(
                f"{label} is {len(raw):,} characters long, more than the {MAX_CELL_CHARS:,} a spreadsheet cell can "
                "hold; the file was not saved by a spreadsheet program — ask the vendor to send the workbook again",
                table.place(key, row.number))
            return REPORTED
        return raw

    def _text(self, raw: Any, label: str, place: str) -> str | None:
        if raw is REPORTED:
            return None
        try:
            return parse_text(raw, label)
        except MissingValue:
            return None
        except CellValueError as exc:
            self.problem(str(exc), place)
            return None

    # -- Company ----------------------------------------------------------

    def company(self) -> tuple[dict[str, Any], dict[str, str]]:
        fields: dict[str, Any] = {}
        cells: dict[str, str] = {}
        by_key = {k: spec for spec in COMPANY_FIELDS for k in spec.labels}
        if self.mapping is not None:
            for key, names in self.mapping.labels.items():
                spec = next(f for f in COMPANY_FIELDS if f.key == key)
                by_key.update((k, spec) for name in names for k in label_keys(name))
        found: dict[str, tuple[Any, str]] = {}

        def add(spec: FieldSpec, raw: Any, place: str) -> None:
            if spec.key in found:
                self.problem(f"{_label(spec)} is asked twice ({found[spec.key][1]} and {place}); keep one row", place)
            else:
                found[spec.key] = (raw, place)

        table = self.table(COMPANY_TABLE, ("field", "value"), expected=len(COMPANY_FIELDS),
                           report=self.mapping is None)
        if table is not None:
            sheet = table.sheet
            for row in table.rows:
                match = next((by_key[k] for k in label_keys(row.values.get(table.columns["field"])) if k in by_key),
                             None)
                if match is not None:
                    add(match, self.value(table, row, "value", _label(match)), table.place("value", row.number))
        else:
            found_sheet = self.sheet(COMPANY_TABLE.sheet)
            if found_sheet is None:
                return fields, cells
            sheet = found_sheet
            self.label_value_pairs(sheet, by_key, add)
        country = found.get("country", (None, ""))[0]
        china = isinstance(country, str) and label_key(country) in _CHINA
        for spec in COMPANY_FIELDS:
            if spec.key not in found:
                if spec.required:
                    self.problem(f"{_label(spec)} is missing: the {sheet} sheet has no row labelled "
                                 f'"{spec.en}"', sheet)
                continue
            raw, place = found[spec.key]
            if raw is REPORTED:
                continue
            value = self.company_value(spec, raw, place, china)
            if value is not None:
                fields[spec.key] = value
                cells[spec.key] = place
        return fields, cells

    def label_value_pairs(self, sheet: str, by_key: dict[str, FieldSpec],
                          add: Callable[[FieldSpec, Any, str], None]) -> None:
        """A vendor's own company sheet without a header row: in each row, a
        field's label and, in the next filled cell to its right, its value."""
        limit = len(COMPANY_FIELDS) + MAX_EXTRA_ROWS
        for row in self._watch(sheet, self.book.rows(sheet, Want(MAX_COLUMNS), BLANK_RUN), limit):
            filled = sorted(set(row.values) | row.uncached)
            for i, column in enumerate(filled):
                spec = next((by_key[k] for k in label_keys(row.values.get(column)) if k in by_key), None)
                if spec is None:
                    continue
                right = [c for c in filled[i + 1:] if c in row.uncached or not is_blank(row.values.get(c))]
                target = right[0] if right else column + 1
                place = f"{sheet}!{column_letter(target)}{row.number}"
                raw: Any = row.values.get(target)
                if target in row.uncached:
                    self.problem(f"{_label(spec)} {_FORMULA}", place)
                    raw = REPORTED
                elif isinstance(raw, str) and len(raw) > MAX_CELL_CHARS:
                    self.problem(f"{_label(spec)} is {len(raw):,} characters long, more than the "
                                 f"{MAX_CELL_CHARS:,} a spreadsheet cell can hold", place)
                    raw = REPORTED
                add(spec, raw, place)
                break

    def company_value(self, spec: FieldSpec, raw: Any, place: str, china: bool) -> Any:
        label = _label(spec)
        rfp = self.rfp
        try:
            if spec.kind in ("text", "email", "code"):
                text = parse_text(raw, label)
                if spec.kind == "email" and not _EMAIL.fullmatch(text):
                    raise CellValueError(f'{label} "{text}" is not an e-mail address')
                if spec.kind == "code":
                    code = normalize_uscc(text)
                    if china or len(code) == 18:
                        error = validate_uscc(text)
                        if error and not _only_check_character(code):
                            raise CellValueError(f'{label} "{text}": {error}')
                        if error:  # a typo in the check character: screening asks for a review
                            self.warnings.append(f'{place}: {label} "{text}": {error}; the registration '
                                                 "check will need review")
                    return code
                return text
            if spec.kind == "year":
                year = parse_integer(raw, label)
                latest = max((d.year for d in (rfp.timeline.issue_date, rfp.timeline.bid_deadline) if d),
                             default=9999)
                if year > latest:
                    raise CellValueError(f"{label} {year} is in the future")
                if year < 1800:
                    raise CellValueError(f"{label} {year} is not a plausible year; write the year, e.g. 2012")
                return year
            if spec.kind == "integer":
                number = parse_integer(raw, label)
                if number < 0:
                    raise CellValueError(f"{label} {number} is negative")
                _check_size(Decimal(number), label)
                return number
            amount = parse_number(raw, label, decimal_comma=rfp.decimal_comma, currency=rfp.currency)
            if amount < 0:
                raise CellValueError(f"{label} {amount} is negative")
            _check_size(amount, label)
            return amount
        except MissingValue as exc:
            if spec.required:
                self.problem(str(exc), place)
            return None
        except CellValueError as exc:
            self.problem(str(exc), place)
            return None

    # -- Certifications ---------------------------------------------------

    def certifications(self) -> tuple[Certification, ...]:
        table = self.table(CERTIFICATIONS_TABLE, ("name", "number", "expires"), required=False)
        if table is None:
            if self.sheet(CERTIFICATIONS_TABLE.sheet) is None:
                self.warnings.append("the workbook has no Certifications sheet: no certificates declared")
            return ()
        found: list[Certification] = []
        for row in table.rows:
            raw_name = self.value(table, row, "name", "certificate name")
            raw_number = self.value(table, row, "number", "certificate number")
            raw_expiry = self.value(table, row, "expires", "expiry date")
            if all(is_blank(v) for v in (raw_name, raw_number, raw_expiry)):
                continue
            place = table.place("name", row.number)
            name = self._text(raw_name, "certificate name", place)
            if name is None and raw_name is not REPORTED:
                self.problem("certificate name is blank, but the row has a number or expiry date", place)
            expires = None
            if not is_blank(raw_expiry) and raw_expiry is not REPORTED:
                try:
                    expires = parse_date(raw_expiry, "expiry date", date1904=self.info.date1904)
                except CellValueError as exc:
                    self.problem(str(exc), table.place("expires", row.number))
                except (OverflowError, ValueError):  # a number far beyond any date
                    self.problem(f"expiry date {_shown(raw_expiry)} is not a date; write the date as YYYY-MM-DD",
                                 table.place("expires", row.number))
            if name is not None:
                found.append(Certification(name, expires, evidence=place))
        return tuple(found)

    # -- Questionnaire ----------------------------------------------------

    def questionnaire(self) -> tuple[Answer, ...]:
        questions = self.rfp.questionnaire
        table = self.table(QUESTIONNAIRE_TABLE, ("id", "answer", "comment", "evidence"), expected=len(questions),
                           required=bool(questions))
        if table is None:
            return ()
        by_id = {_id_key(q.id): q for q in questions}
        seen: dict[str, str] = {}
        answers: dict[str, Answer] = {}
        for row in table.rows:
            id_place = table.place("id", row.number)
            raw_id = self.value(table, row, "id", "requirement ID")
            raw_answer = self.value(table, row, "answer", "answer")
            qid = self._text(raw_id, "requirement ID", id_place)
            if raw_id is REPORTED:
                continue
            if qid is None:
                if not is_blank(raw_answer):
                    self.problem("answer without a requirement ID in its row", table.place("answer", row.number))
                continue
            question = by_id.get(_id_key(qid))
            if question is None:
                if not is_blank(raw_answer):
                    self.warnings.append(f"{id_place}: answer to {qid!r}, which is not a requirement of this RFP, "
                                         "ignored")
                continue
            if question.id in seen:
                self.problem(f"requirement {question.id} appears twice ({seen[question.id]} and {id_place}); keep "
                             "one row", id_place)
                continue
            seen[question.id] = id_place
            place = table.place("answer", row.number)
            answer = None if raw_answer is REPORTED else self.choice(question, raw_answer, place)
            comment = self._text(self.value(table, row, "comment", "comment"), "comment",
                                 table.place("comment", row.number) if "comment" in table.columns else place) or ""
            evidence = self._text(self.value(table, row, "evidence", "evidence reference"), "evidence reference",
                                  table.place("evidence", row.number) if "evidence" in table.columns else place) or ""
            if answer is None and question.mandatory and raw_answer is not REPORTED and is_blank(raw_answer):
                self.problem(f"{question.id} is mandatory and has no answer", place)
            if answer is not None or comment or evidence:
                answers[question.id] = Answer(question.id, answer or "", comment, evidence, place)
        for question in questions:
            if question.id not in seen and question.mandatory:
                self.problem(f"{question.id} is mandatory and has no answer (its row is missing from the "
                             f"{table.sheet} sheet)", table.sheet)
        return tuple(answers[q.id] for q in questions if q.id in answers)

    def choice(self, question: Question, raw: Any, place: str) -> str | None:
        try:
            text = parse_text(raw, "answer")
        except MissingValue:
            return None
        except CellValueError as exc:
            self.problem(str(exc), place)
            return None
        choices = {_choice_key(c): c for c in question.choices}
        match = choices.get(_choice_key(text))
        if match is not None:
            return match
        try:
            meaning = parse_yes_no(text, "answer")
        except CellValueError:
            meaning = None
        if meaning is not None:
            same = [c for c in question.choices if _yes_no(c) is meaning]
            if len(same) == 1:
                return same[0]
        listed = ", ".join(question.choices)
        self.problem(f'answer "{text}" to {question.id} is not one of the choices ({listed})', place)
        return None

    # -- Pricing ----------------------------------------------------------

    def pricing(self) -> tuple[PriceLine, ...]:
        items = self.rfp.line_items
        table = self.table(PRICING_TABLE, ("item_id", "unit_price", "quantity", "comment"), expected=len(items),
                           required=bool(items), extras=True)
        if table is None:
            return ()
        state = _PricingState(items, table)
        c_comment = table.columns.get("comment")
        noted = ([c_comment] if c_comment is not None else []) + list(table.extras)
        notes: dict[int, tuple[str, tuple[tuple[str, str], ...]]] = {}
        c_id = table.columns["item_id"]
        c_price = table.columns["unit_price"]
        c_quantity = table.columns.get("quantity")
        exact = state.exact
        seen = state.seen
        lines = state.lines
        prefix = f"{table.sheet}!{column_letter(c_price)}"
        for row in table.rows:
            number, _, values, uncached = row
            if noted and any(values.get(c) is not None for c in noted):
                notes[number] = self.line_notes(table, values, c_comment)
            raw_id = values.get(c_id)
            item = exact.get(raw_id) if type(raw_id) is str else None
            # The common case -- a known item, its price a number -- stays on this short path.
            if item is None or uncached or state.after_total or raw_id in seen:
                self.pricing_row(state, row)
                continue
            item_id = item.id
            seen[item_id] = number
            if c_quantity is not None:
                raw_quantity = values.get(c_quantity)
                if raw_quantity is not None and (type(raw_quantity) not in (int, float)
                                                 or raw_quantity != item.quantity):
                    self.check_quantity(table, row, item)
            raw_price = values.get(c_price)
            # A positive number below the limit: the Decimal that number_of would give, without the call.
            if type(raw_price) is float and 0 < raw_price < 1e15:
                text = format(raw_price, ".15g")
                if "e" not in text:
                    lines[item_id] = PriceLine(item_id, item.quantity, Decimal(text), prefix + str(number))
                    continue
            elif type(raw_price) is int and 0 <= raw_price < _MAX_INT_AMOUNT:
                lines[item_id] = PriceLine(item_id, item.quantity, Decimal(raw_price), prefix + str(number))
                continue
            self.price(state, row, item)  # the long way, reporting what is wrong
        if state.below_total:
            first = table.place("item_id", state.below_total[0])
            count = len(state.below_total)
            self.warnings.append(f"{first}: {count} row{'s' if count > 1 else ''} below the total "
                                 f"{'are' if count > 1 else 'is'} ignored")
        for item in items:
            if item.id not in seen:
                self.problem(f"line item {item.id} has no row in the {table.sheet} sheet (was the row deleted?); "
                             "it needs a unit price", table.sheet)
        if notes:
            for item_id, line in list(lines.items()):
                note = notes.get(seen.get(item_id, -1))
                if note is not None:
                    lines[item_id] = attrs.evolve(line, comment=note[0], extras=note[1])
        return tuple(lines[item.id] for item in items if item.id in lines)

    def line_notes(self, table: _Table, values: Mapping[int, Any], c_comment: int | None
                   ) -> tuple[str, tuple[tuple[str, str], ...]]:
        """What the vendor wrote beside a price: its comment and the columns it added (as text)."""
        comment = _note_text(values.get(c_comment)) if c_comment is not None else ""
        extras = tuple((header, _note_text(values.get(column))) for column, header in table.extras.items()
                       if values.get(column) is not None and _note_text(values.get(column)))
        return comment, extras

    def pricing_row(self, state: _PricingState, row: SheetRow) -> None:
        """One pricing row, every case considered."""
        table = state.table
        id_place = table.place("item_id", row.number)
        price_place = table.place("unit_price", row.number)
        raw_id = row.values.get(table.columns["item_id"])
        raw_price = row.values.get(table.columns["unit_price"])
        has_price = not is_blank(raw_price) or table.columns["unit_price"] in row.uncached
        if state.after_total:
            if not is_blank(raw_id) or has_price:
                state.below_total.append(row.number)
            return
        raw_id = self.value(table, row, "item_id", "item ID")
        item_text = self._text(raw_id, "item ID", id_place)
        if raw_id is REPORTED:
            return
        if item_text is None:
            if has_price:
                self.problem("unit price without an item ID in its row", price_place)
            return
        item = state.exact.get(item_text)
        if item is None and any(k in TOTAL_LABELS for k in label_keys(item_text)):
            state.after_total = True
            return
        if item is None:
            item = state.by_key.get(_id_key(item_text))
        if item is None:
            if has_price:
                self.problem(f'item "{item_text}" is not a line item of this RFP; put optional extras in a '
                             "comment, not in a priced row", id_place)
            else:
                self.warnings.append(f"{id_place}: row {item_text!r} is not a line item of this RFP; ignored")
            return
        if item.id in state.seen:
            first = table.place("item_id", state.seen[item.id])
            self.problem(f"line item {item.id} appears twice ({first} and {id_place}); keep one row", id_place)
            return
        state.seen[item.id] = row.number
        self.check_quantity(table, row, item)
        self.price(state, row, item)

    def price(self, state: _PricingState, row: SheetRow, item: LineItem) -> None:
        table = state.table
        price_place = table.place("unit_price", row.number)
        raw_price = self.value(table, row, "unit_price", "unit price")
        if raw_price is REPORTED:
            return
        try:
            price = parse_number(raw_price, "unit price", decimal_comma=self.rfp.decimal_comma,
                                 currency=self.rfp.currency)
        except MissingValue:
            self.problem(f"unit price of {item.id} is blank", price_place)
            return
        except CellValueError as exc:
            self.problem(str(exc), price_place)
            return
        if price < 0:
            self.problem(f"unit price {price} is negative", price_place)
            return
        try:
            _check_size(price, "unit price")
        except CellValueError as exc:
            self.problem(str(exc), price_place)
            return
        state.lines[item.id] = PriceLine(item.id, item.quantity, price, price_place)

    def check_quantity(self, table: _Table, row: SheetRow, item: LineItem) -> None:
        column = table.columns.get("quantity")
        if column is None:
            return
        raw = row.values.get(column)
        if is_blank(raw):
            return
        try:
            quantity = parse_number(raw, "quantity", decimal_comma=self.rfp.decimal_comma)
        except CellValueError:
            quantity = None
        if quantity != item.quantity:
            shown = raw if quantity is None else quantity
            self.warnings.append(f"{table.place('quantity', row.number)}: quantity of {item.id} was changed to "
                                 f"{shown}; the RFP's quantity {item.quantity} is used")


class _PricingState:
    def __init__(self, items: tuple[LineItem, ...], table: _Table) -> None:
        self.table = table
        self.exact: dict[str, LineItem] = {item.id: item for item in items}
        self._items = items
        self._by_key: dict[str, LineItem] | None = None
        self.seen: dict[str, int] = {}
        self.lines: dict[str, PriceLine] = {}
        self.below_total: list[int] = []
        self.after_total = False

    @property
    def by_key(self) -> dict[str, LineItem]:
        """Items by normalised id (full-width, case, spaces), built when first needed."""
        if self._by_key is None:
            self._by_key = {_id_key(item.id): item for item in self._items}
        return self._by_key


_XSTRING = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _xstring(m: re.Match[str]) -> str:
    """``_x000D_`` is how .xlsx stores characters XML cannot hold (ST_Xstring)."""
    return chr(int(m.group(1), 16))


def _check_size(number: Decimal, label: str) -> None:
    if abs(number) >= MAX_AMOUNT:
        shown = f"{number:.6E}" if abs(number) >= 10**21 else f"{number:,}"
        raise CellValueError(f"{label} {shown} is too large: a spreadsheet keeps 15 digits, so it cannot hold this "
                             "amount exactly; check the cell")


def _shown(value: Any) -> str:
    text = str(value)
    return f'"{text[:37]}..."' if len(text) > 40 else f'"{text}"'


def _label(spec: FieldSpec) -> str:
    return spec.en[0].lower() + spec.en[1:]


def _yes_no(choice: str) -> bool | None:
    try:
        return parse_yes_no(choice, "choice")
    except CellValueError:
        return None
