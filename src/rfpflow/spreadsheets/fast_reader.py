"""Rows of worksheet cells from an .xlsx file: a fast streaming reader and openpyxl.

Both readers give the same thing -- :class:`SheetRow` records holding, for the
columns the caller wants, each cell's value exactly as openpyxl's
``data_only=True`` mode gives it (``int``/``float``/``str``/``bool``/
``datetime``, dates converted by the cell's number format and the workbook's
date system) and which cells hold a formula without a calculated value. So the
bid reader built on them produces identical records whichever reader runs;
``tests/test_bid_import_corpus.py`` checks that on every workbook it has.

Both are bounded, whatever the file claims: they never look at the declared
``<dimension>`` (openpyxl's is reset), read at most ``Want.max_col`` columns,
and stop after a gap of more than ``gap`` rows without a wanted value, so a
stray value typed in XFD1048576 or a lying ``<dimension ref="A1:XFD1048576">``
costs nothing. (python-calamine is not used: a stray value in XFD1048576 makes it
allocate the whole used range and abort the process -- not an exception; measured
with python-calamine 0.9.1, a lying ``<dimension>`` alone does not. It also does not
say which cells are formulas, and it is not a dependency of rfpflow.)

**The fast reader** (:class:`FastBook`) streams each sheet's XML once, in
chunks of a megabyte, and takes the sheet data in regions of complete rows.
Each row is matched whole by one regular expression built for the wanted
columns: it checks *every* cell of the row against the canonical grammar --
the form every mainstream program writes (Excel, WPS, LibreOffice, openpyxl,
xlsxwriter): cells with their ``r`` reference first and their row's number in
it, in column order for the wanted ones, each holding an optional formula,
value and inline string -- and hands over the wanted cells' attributes and
text, which are then parsed strictly. So one pass of the regex engine, in C,
both checks the structure and finds the values, and Python touches only the
wanted cells. Each region is also checked for bytes XML does not allow,
invalid UTF-8 and namespace declarations; the part before and after the sheet
data goes through expat. The workbook must be UTF-8, with the main namespace
as default namespace and no prefix bound to it.

A large sheet (4 MB of XML and more, about 10,000 rows) is scanned in two
processes on Linux: once the caller has found its header row and narrowed
the columns, a forked copy of this process scans the rest and sends the rows
back in batches, in order, while this one checks them -- on two cores the
scanning and the checking overlap (about 20 % off a 50,000-line import). The
rows, and the error a damaged sheet ends with, are exactly those of the
single process (tested on every workbook of the corpus); ``RFPFLOW_NO_FORK=1``
turns it off, and it is off when the process runs other threads.

Anything outside the grammar -- comments, CDATA, processing instructions,
cells without ``r``, markup between rows, rich text the grammar does not
describe, and damaged XML -- raises :class:`NotCanonical`, and the caller
reads the workbook with openpyxl instead, which decides: it reads a valid
unusual file (correct, only slower) and refuses a damaged one. Shared strings
are read in the same spirit: a table of plain items is checked against its
grammar by one regular expression and its texts cut out by another; any other
table goes through expat (well-formedness, then rich-text items one by one).

The two readers differ in one way only, on files no spreadsheet program
writes: openpyxl parses every character of every cell, while the grammar
does not look inside the text of cells of other columns (nor inside formula
text). A sheet whose only damage is there -- an ``&`` that starts no
reference in the text of a cell the bid does not read, say, or page setup
with invalid attributes -- is refused by openpyxl ("damaged") and read by
the fast reader, with the same values openpyxl would give if the damage were
not there. The fast reader never refuses a workbook openpyxl reads, and never
reads one differently (``tests/test_bid_import_corpus.py`` damages workbooks
at random to check).

**The openpyxl reader** (:class:`OpenpyxlBook`) opens the workbook twice in
read-only mode (cached values, and formulas to know which cells are formulas)
and walks both row iterators in step; which rows are hidden comes from a
separate streaming pass over the row elements.
"""

from __future__ import annotations

import abc
import posixpath
import re
import warnings
import zipfile
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple
from xml.etree.ElementTree import ParseError
from xml.parsers import expat

import defusedxml
from defusedxml import ElementTree as SafeET

from rfpflow.bulk import can_fork, end_worker, fork_worker, receive, send
from rfpflow.spreadsheets.filecheck import Limits, bounded_read

__all__ = [
    "HEAD_ROWS",
    "Book",
    "FastBook",
    "NotCanonical",
    "OpenpyxlBook",
    "SheetDamaged",
    "SheetRow",
    "Want",
    "column_letter",
]

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"

_LIMITS = Limits()

HEAD_ROWS = 40
"""Rows at the top of a sheet that are always read (titles, the header row)."""

_CHUNK = 1 << 20


class NotCanonical(Exception):
    """The sheet's XML is valid but not in the form the fast scanner reads."""


class SheetDamaged(Exception):
    """A sheet (or, with ``sheet`` None, a part every sheet needs) cannot be parsed."""

    def __init__(self, sheet: str | None, detail: str) -> None:
        super().__init__(f"{sheet or 'workbook'}: {detail}")
        self.sheet = sheet
        self.detail = detail

    def __reduce__(self) -> tuple[type[SheetDamaged], tuple[str | None, str]]:
        return SheetDamaged, (self.sheet, self.detail)  # pickled by the scanning child process


class SheetRow(NamedTuple):
    """One row: its number, whether it is hidden, the wanted cells' values
    (``None`` values left out) and the wanted cells holding a formula without
    a calculated value."""

    number: int
    hidden: bool
    values: dict[int, Any]
    uncached: frozenset[int]


class Want:
    """Which columns a caller wants: all up to ``max_col`` until it narrows
    them to ``columns`` (it may do so while iterating, after the header row)."""

    def __init__(self, max_col: int) -> None:
        self.max_col = max_col
        self.columns: tuple[int, ...] | None = None

    def narrow(self, columns: set[int] | frozenset[int]) -> None:
        self.columns = tuple(sorted(c for c in columns if 1 <= c <= self.max_col))


_LETTERS: dict[int, str] = {}


def column_letter(column: int) -> str:
    """``1`` -> ``"A"``, ``28`` -> ``"AB"``."""
    letters = _LETTERS.get(column)
    if letters is None:
        n, out = column, ""
        while n:
            n, rem = divmod(n - 1, 26)
            out = chr(65 + rem) + out
        letters = _LETTERS[column] = out
    return letters


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


class Book(abc.ABC):
    """The interface of both readers."""

    reader = "?"
    zf: zipfile.ZipFile
    """The workbook, open while the book is."""
    read_to_end: set[str]
    """Parts this reader unpacked to their end, bounding their size and checking their CRC."""

    @abc.abstractmethod
    def sheet_names(self) -> list[str]:
        """The workbook's sheet names, in order."""

    @abc.abstractmethod
    def rows(self, sheet: str, want: Want, gap: int) -> Iterator[SheetRow]:
        """The sheet's rows, bounded by ``want`` and stopping after ``gap`` blank rows."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the file."""

    def __enter__(self) -> Book:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------
# Package structure: which part holds which sheet
# ---------------------------------------------------------------------------


def _xml(zf: zipfile.ZipFile, name: str, limits: Limits, read: set[str] | None = None) -> Any:
    """A small part, parsed; its name is added to ``read`` (read whole, so CRC-checked)."""
    data = bounded_read(zf, name, limits.max_member_uncompressed)
    if read is not None:
        read.add(name)
    try:
        return SafeET.fromstring(data)
    except (ParseError, defusedxml.DefusedXmlException, ValueError) as exc:
        raise SheetDamaged(None, f"{name} is not well-formed XML ({exc})") from None


def _rels(zf: zipfile.ZipFile, part: str, limits: Limits, read: set[str] | None = None) -> dict[str, tuple[str, str]]:
    """``{rId: (type, target part)}`` of one part's relationships."""
    folder, base = posixpath.split(part)
    name = posixpath.join(folder, "_rels", base + ".rels")
    if name not in zf.NameToInfo:
        return {}
    out: dict[str, tuple[str, str]] = {}
    for rel in _xml(zf, name, limits, read):
        if rel.tag != f"{{{_PKG_REL_NS}}}Relationship":
            continue
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External":
            continue
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out[rel.get("Id", "")] = (rel.get("Type", ""), path)
    return out


def workbook_parts(zf: zipfile.ZipFile, limits: Limits, read: set[str] | None = None,
                   ) -> tuple[list[tuple[str, str]], str | None, bool]:
    """(worksheets as (name, part) in workbook order, the shared-strings part,
    date1904) as declared by the workbook part."""
    root_rels = _rels(zf, "", limits, read)
    workbook = next((p for t, p in root_rels.values() if t.endswith("/officeDocument")), "xl/workbook.xml")
    rels = _rels(zf, workbook, limits, read)
    root = _xml(zf, workbook, limits, read)
    sheets: list[tuple[str, str]] = []
    date1904 = False
    for element in root:
        if element.tag == f"{{{MAIN_NS}}}workbookPr":
            date1904 = str(element.get("date1904", "false")).strip().lower() in ("1", "true")
        if element.tag != f"{{{MAIN_NS}}}sheets":
            continue
        for sheet in element:
            rel = rels.get(sheet.get(f"{{{_REL_NS}}}id", ""))
            if rel and rel[0].endswith("/worksheet") and rel[1] in zf.NameToInfo:
                sheets.append((sheet.get("name", ""), rel[1]))
    strings = next((p for t, p in rels.values() if t.endswith("/sharedStrings")), None)
    return sheets, strings, date1904


# ---------------------------------------------------------------------------
# Values, as openpyxl makes them
# ---------------------------------------------------------------------------

_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _entity(m: re.Match[str]) -> str:
    name = m.group(1)
    if name[0] == "#":
        return chr(int(name[2:], 16) if name[1] in "xX" else int(name[1:]))
    return _NAMED[name]


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|]]>")


def _xml_text(raw: bytes) -> str:
    """Character data as an XML parser reports it: line ends normalised, then
    references expanded. What a parser refuses is refused here too (a
    ``ValueError``): bytes that are not UTF-8, characters XML does not allow,
    ``]]>``, and an ``&`` that does not start a reference."""
    s = raw.decode("utf-8")
    if _NOT_XML.search(s):
        raise ValueError("character data with a character XML does not allow")
    if "\r" in s:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in s:
        s, count = _ENTITY.subn(_entity, s)
        if count != raw.count(b"&") or _NOT_XML.search(s):
            raise ValueError("character data with an '&' that is not a valid reference")
    return s


def _cast_number(value: str) -> int | float:
    # openpyxl.worksheet._reader._cast_number
    if "." in value or "E" in value or "e" in value:
        return float(value)
    return int(value)


class _Styles:
    """Which cell styles (``s`` attribute) format numbers as dates or durations,
    decided exactly as openpyxl does."""

    def __init__(self, zf: zipfile.ZipFile, limits: Limits, read: set[str] | None = None) -> None:
        from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format

        self.dates: frozenset[int] = frozenset()
        self.durations: frozenset[int] = frozenset()
        if "xl/styles.xml" not in zf.NameToInfo:
            return
        root = _xml(zf, "xl/styles.xml", limits, read)
        custom: dict[int, str] = {}
        xf_formats: list[int] = []
        for element in root:
            if element.tag == f"{{{MAIN_NS}}}numFmts":
                for fmt in element:
                    try:
                        custom[int(fmt.get("numFmtId", ""))] = fmt.get("formatCode", "")
                    except ValueError:
                        continue
            elif element.tag == f"{{{MAIN_NS}}}cellXfs":
                for xf in element:
                    try:
                        xf_formats.append(int(xf.get("numFmtId", "0")))
                    except ValueError:
                        xf_formats.append(0)
        dates, durations = set(), set()
        for index, fmt_id in enumerate(xf_formats):
            code = custom.get(fmt_id) if fmt_id in custom else BUILTIN_FORMATS.get(fmt_id)
            if code is None:
                continue
            if is_date_format(code):
                dates.add(index)
            if is_timedelta_format(code):
                durations.add(index)
        self.dates = frozenset(dates)
        self.durations = frozenset(durations)


class _TextCollector:
    """The text of a string item (``<si>`` or ``<is>``) as openpyxl's
    ``Text.content``: the plain ``<t>`` and the ``<t>`` of each rich-text run,
    without phonetic runs (``<rPh>``)."""

    T = f"{MAIN_NS}}}t"
    R = f"{MAIN_NS}}}r"
    ITEM = (f"{MAIN_NS}}}si", f"{MAIN_NS}}}is")

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.parts: list[str] = []
        self.capture = False
        self.items: list[str] = []

    def start(self, name: str, attrs: object) -> None:
        stack = self.stack
        if name == self.T and stack and (
            stack[-1] in self.ITEM or (stack[-1] == self.R and len(stack) > 1 and stack[-2] in self.ITEM)
        ):
            self.capture = True
        elif name in self.ITEM:
            self.parts = []
        stack.append(name)

    def end(self, name: str) -> None:
        self.stack.pop()
        if name == self.T:
            self.capture = False
        elif name in self.ITEM:
            self.items.append("".join(self.parts))

    def data(self, text: str) -> None:
        if self.capture:
            self.parts.append(text)


def _refuse_dtd(*args: object) -> None:
    raise ValueError("document type declarations are not allowed")


def _refuse_entity(*args: object) -> int:
    raise ValueError("external entities are not allowed")


def _expat(namespaces: bool) -> Any:
    parser = expat.ParserCreate(namespace_separator="}") if namespaces else expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.ExternalEntityRefHandler = _refuse_entity
    return parser


def _parse_items(chunks: Iterator[bytes], where: str) -> list[str]:
    collector = _TextCollector()
    parser = _expat(True)
    parser.buffer_text = True
    parser.StartElementHandler = collector.start
    parser.EndElementHandler = collector.end
    parser.CharacterDataHandler = collector.data
    try:
        for chunk in chunks:
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except (expat.ExpatError, ValueError, IndexError, LookupError) as exc:
        raise SheetDamaged(where, f"not well-formed XML ({exc})") from None
    return collector.items


_SST_ROOT = re.compile(
    rb'^(?:\xef\xbb\xbf)?(?:<\?xml(?:[^?>]|\?(?!>))*\?>)?' + rb"[ \t\r\n]*<sst(?:[ \t\r\n][^>]*)?>", re.S
)
_SI_SIMPLE = re.compile(rb'<t(?: xml:space="preserve")?>([^<]*)</t></si>[ \t\r\n]*')
_SI_ALL = re.compile(rb'<si><t(?: xml:space="preserve")?>([^<]*)</t></si>')


_SST_CANONICAL_ROOT = re.compile(
    rb"(?:\xef\xbb\xbf)?(?:<\?xml(?: [\w:]+=(?:\"[^\"<]*\"|'[^'<]*'))*[ \t\r\n]*\?>)?[ \t\r\n]*"
    rb'<sst(?:[ \t\r\n]+[\w:]+="[^"<&]*")*[ \t\r\n]*>'
)
_SST_CANONICAL = re.compile(rb'(?:<si><t(?: xml:space="preserve")?>[^<]*+</t></si>[ \t\r\n]*+)*+')


def _shared_strings(data: bytes) -> list[str]:
    """The shared-string table, as openpyxl's ``read_string_table`` gives it.

    A table in the canonical form -- UTF-8, every item ``<si><t>text</t></si>``
    -- is checked against that grammar by one regular expression and its
    texts are cut out by another; the characters are checked as a parser
    would (no bytes XML forbids, valid UTF-8 and references). Any other table
    goes through expat as a whole, which also refuses a damaged one; items
    with rich text or phonetic runs are then parsed one by one.
    """
    if not data:
        return []
    root = _SST_ROOT.match(data)
    end = data.rfind(b"</sst>")
    encoding = _DECL_ENCODING.match(data)
    if (
        root is not None
        and _SST_CANONICAL_ROOT.fullmatch(root.group(0)) is not None
        and _DEFAULT_NS.search(root.group(0)) is not None
        and _PREFIXED_MAIN_NS.search(root.group(0)) is None
        and (encoding is None or encoding.group(1).lower().replace(b"-", b"") == b"utf8")
        and end >= 0
        and not data[end + 6:].strip(b" \t\r\n")
    ):
        body = data[root.end():end]
        if _SST_CANONICAL.fullmatch(body) and len(body.translate(None, _CONTROL)) == len(body):
            simple = _SI_ALL.findall(body)
            plain = b"&" not in body and b"\r" not in body
            texts = [t.decode("utf-8") for t in simple] if plain else [_xml_text(t) for t in simple]
            if b"x005F_" in body:
                texts = [t.replace("x005F_", "") for t in texts]  # as openpyxl's read_string_table
            return texts
    return _shared_strings_parsed(data)


def _shared_strings_parsed(data: bytes) -> list[str]:
    """Any other table: well-formedness by expat, then item by item."""
    checker = _expat(False)
    try:
        checker.Parse(data, True)
    except (expat.ExpatError, ValueError, LookupError) as exc:
        raise SheetDamaged(None, f"shared strings: not well-formed XML ({exc})") from None
    root = _SST_ROOT.match(data)
    end = data.rfind(b"</sst>")
    if (
        root is None
        or _DEFAULT_NS.search(root.group(0)) is None
        or _PREFIXED_MAIN_NS.search(root.group(0)) is not None
        or end < 0
        or b"<!" in data
        or data.count(b"<?") > 1
        or data.count(b"<si") != data.count(b"<si>")
    ):
        return [s.replace("x005F_", "") for s in _parse_items(iter([data]), "shared strings")]
    body = data[root.end():end]
    pieces = body.split(b"<si>")
    if pieces[0].strip(b" \t\r\n"):
        return [s.replace("x005F_", "") for s in _parse_items(iter([data]), "shared strings")]
    texts = [_string_item(piece) for piece in pieces[1:]]
    if b"x005F_" in body:
        texts = [t.replace("x005F_", "") for t in texts]  # as openpyxl's read_string_table
    return texts


def _string_item(piece: bytes) -> str:
    m = _SI_SIMPLE.fullmatch(piece)
    if m is not None:
        return _xml_text(m.group(1))
    close = piece.rfind(b"</si>")
    if close < 0 or piece[close + 5:].strip(b" \t\r\n"):
        raise SheetDamaged(None, "shared strings: an item without end")
    items = _parse_items(iter([b'<si xmlns="' + MAIN_NS.encode() + b'">' + piece[:close + 5]]), "shared strings")
    return items[0] if items else ""


def _inline_text(inner: bytes) -> str:
    if inner.startswith(b"<t>") and inner.endswith(b"</t>") and inner.count(b"<") == 2:
        return _xml_text(inner[3:-4])
    if inner.startswith(b'<t xml:space="preserve">') and inner.endswith(b"</t>") and inner.count(b"<") == 2:
        return _xml_text(inner[24:-4])
    try:
        items = _parse_items(iter([b'<is xmlns="' + MAIN_NS.encode() + b'">' + inner + b"</is>"]), "inline string")
    except SheetDamaged:
        raise NotCanonical("inline string with markup the scanner does not read") from None
    return items[0] if items else ""


# ---------------------------------------------------------------------------
# The fast reader
# ---------------------------------------------------------------------------

_WS = rb"[ \t\r\n]"
_ATTR = re.compile(rb"([\w:.-]+)" + _WS + rb"*=" + _WS + rb'*"([^"<]*)"')
_ROOT = re.compile(
    rb"^(?:\xef\xbb\xbf)?(?:<\?xml(?:[^?>]|\?(?!>))*\?>)?" + _WS + rb"*<worksheet(?:" + _WS + rb"[^>]*)?>", re.S
)
_DECL_ENCODING = re.compile(rb'^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding=["\']([^"\']*)["\']')
_DEFAULT_NS = re.compile(_WS + rb'xmlns="' + re.escape(MAIN_NS.encode()) + rb'"')
_PREFIXED_MAIN_NS = re.compile(_WS + rb'xmlns:[\w.-]+' + _WS + rb'*=' + _WS + rb'*["\']' + re.escape(MAIN_NS.encode()))
_MAX_PROLOG = 32 * 1024 * 1024
_NONE: frozenset[int] = frozenset()
_row = tuple.__new__
_CONTROL = bytes(range(9)) + b"\x0b\x0c" + bytes(range(14, 32))  # the bytes XML 1.0 does not allow

# The canonical grammar of the sheet data. Attributes: double quotes, no
# references in values. A cell: <c r="B7" ...>, then an optional formula,
# value and inline string, in that order. Inline strings: plain text or
# rich-text runs whose properties are empty elements, then phonetic runs.
# Space is allowed between elements (pretty-printed files). Every repetition is possessive
# (*+, ?+): the grammar never needs to give back, and a long row that does
# not match fails in linear time instead of backtracking.
_S = _WS + rb"*+"
_ATT = rb"(?:" + _WS + rb'++[\w:]++="[^"<&]*+")*+' + _S
_FORMULA = rb"<f" + _ATT + rb"(?:/>|>[^<]*+</f>)" + _S
_RUN_TEXT = rb'<t(?: xml:space="preserve")?>[^<]*+</t>' + _S
_RUNS = (rb"(?:" + _RUN_TEXT + rb"|(?:<r>" + _S + rb"(?:<rPr>" + _S + rb"(?:<[A-Za-z]++" + _ATT + rb"/>" + _S
         + rb")*+</rPr>" + _S + rb")?+" + _RUN_TEXT + rb"</r>" + _S + rb")++)"
         + rb"(?:<rPh" + _ATT + rb">" + _S + _RUN_TEXT + rb"</rPh>" + _S + rb")*+(?:<phoneticPr" + _ATT + rb"/>" + _S
         + rb")?+")
_EMPTY_VALUE = rb"<v" + _S + rb"/>" + _S


def _cell_pattern(letters: bytes, *, capture: bool, same_row: bool = True) -> bytes:
    """One cell of these column letters. ``capture``: groups for its
    attributes, formula, value text and inline-string runs (and, without
    ``same_row``, its column letters first). ``same_row``: its reference
    repeats the row's number (the ``row`` group of the row pattern)."""
    digits = rb"(?P=row)" if same_row else rb"[0-9]{1,7}"
    if not capture:
        return (rb'<c r="' + letters + digits + rb'"' + _ATT + rb"(?:/>|>" + _S + rb"(?:" + _FORMULA + rb")?+"
                rb"(?:<v>[^<]*+</v>" + _S + rb"|" + _EMPTY_VALUE + rb")?+(?:<is>" + _S + _RUNS + rb"</is>" + _S
                + rb")?+</c>)" + _S)
    if not same_row:
        letters = rb"(" + letters + rb")"
    return (rb'<c r="' + letters + digits + rb'"(' + _ATT + rb")(?:/>|>" + _S + rb"(" + _FORMULA + rb")?+"
            rb"(?:<v>([^<]*+)</v>" + _S + rb"|" + _EMPTY_VALUE + rb")?+(?:<is>" + _S + rb"(" + _RUNS + rb")</is>" + _S
            + rb")?+</c>)" + _S)


_ROW_START = _S + rb'<row r="(?P<row>[1-9][0-9]{0,6})"(' + _ATT + rb")(?:(/)>|>" + _S
_ANY_CELL = re.compile(_cell_pattern(rb"[A-Z]{1,3}", capture=True, same_row=False))


def _row_pattern(letters: tuple[bytes, ...] | None) -> re.Pattern[bytes]:
    """A whole row in the canonical grammar, every cell checked. Groups: 1-3
    the row's number, its other attributes and the slash of an empty row;
    then, with ``letters`` None, 4 the row's cells (read with
    :data:`_ANY_CELL`), else four groups for each wanted column in order
    (attributes, formula, value text, inline runs; all None when the cell is
    absent). Cells must come in column order for a wanted column to be read;
    anything else does not match."""
    if letters is None:
        body = rb"(" + rb"(?:" + _cell_pattern(rb"[A-Z]{1,3}", capture=False) + rb")*+)"
    else:
        parts = []
        for i, wanted in enumerate(letters):
            later = b"|".join(letters[i:])
            parts.append(rb"(?:" + _cell_pattern(rb"(?!(?:" + later + rb")[0-9])[A-Z]{1,3}", capture=False) + rb")*+")
            parts.append(rb"(?:" + _cell_pattern(wanted, capture=True) + rb")?+")
        every = b"|".join(letters)
        parts.append(rb"(?:" + _cell_pattern(rb"(?!(?:" + every + rb")[0-9])[A-Z]{1,3}", capture=False) + rb")*+")
        body = b"".join(parts)
    return re.compile(_ROW_START + body + rb"</row>)" + _S)


def _hidden(attributes: bytes) -> bool:
    return dict(_ATTR.findall(attributes)).get(b"hidden") in (b"1", b"true")


def _slots(columns: tuple[int, ...] | None) -> list[tuple[int, int, int, int, int]] | None:
    """For a row pattern of wanted columns: each column with the indexes in
    ``m.groups()`` of its attributes, formula, value text and inline runs."""
    if columns is None:
        return None
    return [(column, 3 + 4 * i, 4 + 4 * i, 5 + 4 * i, 6 + 4 * i) for i, column in enumerate(columns)]


#: How the short path reads a cell (cached per distinct attribute text; plain ints for speed).
_PLAIN_NUMBER, _SHARED_STRING, _OTHER_CELL = 1, 2, 3


class FastBook(Book):
    """The fast reader (see the module documentation)."""

    reader = "fast"

    def __init__(self, path: Path, *, limits: Limits = _LIMITS) -> None:
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH

        self.path = Path(path)
        self.limits = limits
        self.read_to_end = set()
        self.zf = zipfile.ZipFile(self.path)
        try:
            self.sheets, strings_part, date1904 = workbook_parts(self.zf, limits, self.read_to_end)
            self.styles = _Styles(self.zf, limits, self.read_to_end)
        except BaseException:
            self.zf.close()
            raise
        self.epoch = CALENDAR_MAC_1904 if date1904 else WINDOWS_EPOCH
        self._strings_part = strings_part
        self._strings: list[str] | None = None
        try:
            self.strings  # noqa: B018 - read now, as openpyxl does: a damaged table refuses the workbook
        except BaseException:
            self.zf.close()
            raise
        self._patterns: dict[tuple[bytes, ...] | None, re.Pattern[bytes]] = {}
        self._attributes: dict[bytes, tuple[int | None, bytes]] = {}
        self._kinds: dict[bytes, int] = {}

    def close(self) -> None:
        self.zf.close()

    def sheet_names(self) -> list[str]:
        return [name for name, _ in self.sheets]

    @property
    def strings(self) -> list[str]:
        if self._strings is None:
            part = self._strings_part
            data = b"".join(self._chunks(part)) if part is not None and part in self.zf.NameToInfo else b""
            self._strings = _shared_strings(data)
        return self._strings

    def _chunks(self, part: str) -> Iterator[bytes]:
        """The part's bytes in chunks of about a megabyte, bounded by the
        limits. A part read to its end is noted in :attr:`read_to_end`
        (``zipfile`` has then checked its CRC)."""
        yield from _read_chunks(self.zf, part, self.limits.max_member_uncompressed)
        self.read_to_end.add(part)

    def rows(self, sheet: str, want: Want, gap: int) -> Iterator[SheetRow]:
        part = dict(self.sheets)[sheet]
        try:
            rows = self._rows(part, want, gap)
            if self.zf.getinfo(part).file_size < CHILD_SCAN_MIN or not can_fork():
                yield from rows
                return
            for row in rows:
                yield row
                if want.columns is not None:  # the caller has found its header row: hand the rest over
                    yield from self._rest_in_child(rows, part)
                    return
        except SheetDamaged as exc:
            raise SheetDamaged(sheet, exc.detail) from None
        except _DAMAGE as exc:
            raise SheetDamaged(sheet, f"{type(exc).__name__}: {exc}") from None

    def _rest_in_child(self, rows: Iterator[SheetRow], part: str) -> Iterator[SheetRow]:
        """The rest of ``rows``, scanned by a forked copy of this process while
        this one goes on with what the caller does with them (on two cores,
        the scanning and the checking of a large sheet overlap). The rows come
        back in order, in batches, and end as ``rows`` would end -- with the
        same exception, if any. Should the child die, :class:`NotCanonical`
        sends the workbook to openpyxl."""
        worker = fork_worker(lambda pipe: _send_rows(pipe, rows, lambda: part in self.read_to_end))
        if worker is None:  # no process to be had: go on alone
            yield from rows
            return
        pid, pipe = worker
        try:
            with pipe:
                while True:
                    message = receive(pipe)
                    if message is None:
                        raise NotCanonical("the scanning process ended without finishing")
                    kind, payload = message
                    if kind == "rows":
                        for values in payload:
                            yield _row(SheetRow, values)
                    elif kind == "end":
                        if payload:
                            self.read_to_end.add(part)
                        return
                    else:
                        raise payload
        finally:
            end_worker(pid)
            if isinstance(rows, Generator):
                rows.close()  # this process's copy, suspended where the child took over

    def _pattern(self, columns: tuple[int, ...] | None) -> re.Pattern[bytes]:
        key = None if columns is None else tuple(column_letter(c).encode() for c in columns)
        pattern = self._patterns.get(key)
        if pattern is None:
            pattern = self._patterns[key] = _row_pattern(key)
        return pattern

    def _rows(self, part: str, want: Want, gap: int) -> Iterator[SheetRow]:
        """Scan the sheet: complete rows are taken in regions of about a
        chunk, and each row is matched whole by the row pattern, which checks
        every cell against the canonical grammar and hands over the wanted
        cells. Anything else raises :class:`NotCanonical`."""
        chunks = self._chunks(part)
        buf = b""

        def more() -> bool:
            nonlocal buf
            chunk = next(chunks, None)
            if chunk is None:
                return False
            buf += chunk
            return True

        # The prolog: everything up to <sheetData>.
        while True:
            at = buf.find(b"<sheetData")
            if at >= 0 and buf.find(b">", at) >= 0:
                break
            if len(buf) > _MAX_PROLOG or not more():
                raise NotCanonical("no <sheetData> element in canonical form")
        prolog = buf[:at]
        self._check_prolog(prolog)
        close = buf.find(b">", at)
        tag = buf[at:close + 1]

        def finish(after: int) -> None:
            """At the end of the sheet data: everything but the sheet data
            through expat, with namespaces resolved."""
            while more():
                pass  # each call appends the next chunk to buf; reading to the end is the work
            outer = _expat(True)
            try:
                outer.Parse(prolog + b"<sheetData/>" + buf[after:], True)
            except (expat.ExpatError, ValueError, LookupError) as exc:
                raise SheetDamaged(part, f"not well-formed XML ({exc})") from None

        if re.fullmatch(rb"<sheetData" + _WS + rb"*/>", tag):
            finish(close + 1)
            return
        if tag != b"<sheetData>":
            raise NotCanonical("<sheetData> with attributes")
        buf = buf[close + 1:]

        counter = 1  # the next row number openpyxl would yield (rows before it are skipped)
        limit = HEAD_ROWS + gap
        wanted = want.columns
        match = self._pattern(wanted).match
        slots = _slots(wanted)
        max_col = want.max_col
        kinds = self._kinds
        strings = self.strings if self._strings_part is not None else []
        cell_value = self._cell_value
        search_from = 0
        while True:
            stop = buf.find(b"</sheetData>")
            if stop >= 0:
                end = stop
            else:
                end = buf.rfind(b"</row>", search_from)
                if end < 0:
                    search_from = max(0, len(buf) - 6)
                    if not more():
                        raise NotCanonical("sheet data ends unexpectedly")
                    continue
                end += 6
            search_from = 0
            region = buf[:end]
            buf = buf[end:]
            # What the grammar does not look at: namespaces, bytes XML does not allow, UTF-8.
            if b"xmlns" in region or len(region.translate(None, _CONTROL)) != len(region):
                raise NotCanonical("namespace declaration or control character in the sheet data")
            if not region.isascii():
                try:
                    region.decode("utf-8")
                except UnicodeDecodeError:
                    raise NotCanonical("sheet data that is not UTF-8") from None
            pos = 0
            size = len(region)
            while pos < size:
                m = match(region, pos)
                if m is None:
                    if region[pos:].strip(b" \t\r\n"):
                        raise NotCanonical(f"row the scanner does not read ({region[pos:pos + 40]!r}...)")
                    break
                pos = m.end()
                groups = m.groups()
                number = int(groups[0])
                if number < counter:
                    continue  # a repeated or out-of-order row: openpyxl skips it
                counter = number + 1
                if number > limit:
                    return
                if groups[2] is not None:
                    continue  # <row .../>: no cells
                values: dict[int, Any] = {}
                uncached: set[int] | None = None
                if slots is None:  # every column up to max_col: the cells one by one
                    for letters, attributes, formula, text, runs in _ANY_CELL.findall(groups[3]):
                        column = _column_number(letters)
                        if column > max_col:
                            continue
                        value, is_formula = cell_value(attributes, formula, text, runs)
                        if value is not None:
                            values[column] = value
                            if uncached:
                                uncached.discard(column)
                        else:
                            values.pop(column, None)
                            if is_formula:
                                uncached = uncached or set()
                                uncached.add(column)
                            elif uncached:
                                uncached.discard(column)
                else:
                    for column, at, formula_at, text_at, runs_at in slots:
                        attributes = groups[at]
                        if attributes is None:
                            continue  # no such cell
                        text = groups[text_at]
                        if text:
                            kind = kinds.get(attributes) or self._kind(attributes)
                            if kind == _SHARED_STRING:
                                values[column] = strings[int(text)]
                                continue
                            if kind == _PLAIN_NUMBER:  # int or float, as openpyxl makes it
                                if text.isdigit():
                                    values[column] = int(text)
                                    continue
                                if text.isascii():
                                    values[column] = float(text) if b"." in text or b"E" in text or b"e" in text \
                                        else int(text)
                                    continue
                        value, is_formula = cell_value(attributes, groups[formula_at], text, groups[runs_at])
                        if value is not None:
                            values[column] = value
                        elif is_formula:
                            uncached = uncached or set()
                            uncached.add(column)
                if values or uncached:
                    limit = (number if number > HEAD_ROWS else HEAD_ROWS) + gap
                    hidden = b"hidden" in groups[1] and _hidden(groups[1])
                    yield _row(SheetRow, (number, hidden, values, frozenset(uncached) if uncached else _NONE))
                    if want.columns is not wanted:  # the caller narrowed the columns after the header row
                        wanted = want.columns
                        match = self._pattern(wanted).match
                        slots = _slots(wanted)
            if stop >= 0:
                finish(len(b"</sheetData>"))
                return

    def _check_prolog(self, prolog: bytes) -> None:
        """Check the part before the sheet data for the canonical form."""
        m = _ROOT.match(prolog)
        if m is None or not _DEFAULT_NS.search(m.group(0)) or _PREFIXED_MAIN_NS.search(m.group(0)):
            raise NotCanonical("root element is not <worksheet> in the default main namespace")
        enc = _DECL_ENCODING.match(prolog)
        if enc and enc.group(1).lower().replace(b"-", b"") != b"utf8":
            raise NotCanonical("not UTF-8")
        rest = prolog[m.end():]
        if b"<!" in rest or b"<?" in rest:
            raise NotCanonical("comments or processing instructions before the sheet data")

    def _kind(self, attributes: bytes) -> int:
        """How a cell with these attributes is read on the short path: a plain number
        (not a date), a shared string, or anything else (read in full)."""
        style_id, data_type = self._attributes_of(attributes)
        kind = _OTHER_CELL
        if data_type == b"n" and (style_id is None or style_id not in self.styles.dates):
            kind = _PLAIN_NUMBER
        elif data_type == b"s":
            kind = _SHARED_STRING
        if len(self._kinds) < 4096:
            self._kinds[attributes] = kind
        return kind

    def _attributes_of(self, attributes: bytes) -> tuple[int | None, bytes]:
        parsed = self._attributes.get(attributes)
        if parsed is None:
            if b"&" in attributes:
                raise NotCanonical("reference in a cell's attributes")
            found = dict(_ATTR.findall(attributes))
            style = found.get(b"s")
            parsed = (int(style) if style else None, found.get(b"t", b"n"))
            if len(self._attributes) < 4096:
                self._attributes[attributes] = parsed
        return parsed

    def _value(self, attributes: bytes, text: bytes) -> Any:
        """The value of a cell whose content is ``<v>text</v>``, as openpyxl's
        data_only mode gives it."""
        style_id, data_type = self._attributes.get(attributes) or self._attributes_of(attributes)
        if not text:
            return None
        if data_type == b"n":
            if not text.isascii():
                number: int | float = _cast_number(text.decode("utf-8"))
            elif b"." in text or b"E" in text or b"e" in text:
                number = float(text)
            else:
                number = int(text)
            if style_id is not None and style_id in self.styles.dates:
                return self._date(number, style_id)
            return number
        if data_type == b"s":
            return self.strings[int(text)]
        if data_type == b"b":
            return bool(int(text))
        if data_type == b"d":
            from openpyxl.utils.datetime import from_ISO8601

            return from_ISO8601(_xml_text(text))
        if data_type == b"inlineStr":
            return None
        return _xml_text(text)

    def _cell_value(self, attributes: bytes, formula: bytes | None, text: bytes | None,
                    runs: bytes | None) -> tuple[Any, bool]:
        """A cell's value as openpyxl's data_only mode gives it, and whether
        it holds a formula."""
        if self._attributes_of(attributes)[1] == b"inlineStr":
            return (_inline_text(runs) if runs else None), bool(formula)
        return (self._value(attributes, text) if text else None), bool(formula)

    def _date(self, number: float, style: int) -> Any:
        from openpyxl.utils.datetime import from_excel

        try:
            return from_excel(number, self.epoch, timedelta=style in self.styles.durations)
        except (OverflowError, ValueError):
            return "#VALUE!"  # as openpyxl: a date serial out of range is an error value


def _read_chunks(zf: zipfile.ZipFile, part: str, limit: int) -> Iterator[bytes]:
    total = 0
    with zf.open(part) as fh:
        while chunk := fh.read(_CHUNK):
            total += len(chunk)
            if total > limit:
                raise SheetDamaged(part, "part is larger than the limits allow")
            yield chunk


CHILD_SCAN_MIN = 4 * _CHUNK
"""Sheets at least this large (uncompressed, as declared) are scanned, after
their header row, by a forked child process (Linux only; see
:meth:`FastBook._rest_in_child`). ``RFPFLOW_NO_FORK=1`` turns it off."""
_BATCH = 4096
_DAMAGE = (expat.ExpatError, ValueError, IndexError, LookupError, OverflowError, zipfile.BadZipFile)


def _send_rows(pipe: BinaryIO, rows: Iterator[SheetRow], read_to_end: Callable[[], bool]) -> None:
    """In the child: the rows as plain tuples, in batches, then how they ended."""
    batch: list[tuple[Any, ...]] = []
    try:
        for row in rows:
            batch.append(tuple(row))
            if len(batch) == _BATCH:
                send(pipe, "rows", batch)
                batch = []
    except (NotCanonical, SheetDamaged) as exc:
        send(pipe, "rows", batch)
        send(pipe, "error", exc)
        return
    except _DAMAGE as exc:
        send(pipe, "rows", batch)
        send(pipe, "error", SheetDamaged(None, f"{type(exc).__name__}: {exc}"))
        return
    send(pipe, "rows", batch)
    send(pipe, "end", read_to_end())


# ---------------------------------------------------------------------------
# The openpyxl reader
# ---------------------------------------------------------------------------


class _HiddenRows:
    """Which rows of a sheet are hidden, found by streaming its row elements
    as far as needed (openpyxl's read-only mode does not report it)."""

    ROW = f"{MAIN_NS}}}row"

    def __init__(self, book: OpenpyxlBook, part: str) -> None:
        self.events = self._scan(book, part)
        self.hidden: set[int] = set()
        self.seen = 0

    def _scan(self, book: OpenpyxlBook, part: str) -> Iterator[tuple[int, bool]]:
        found: list[tuple[int, bool]] = []
        counter = 0

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal counter
            if name == self.ROW:
                r = attrs.get("r")
                counter = int(r) if r and r.isdigit() else counter + 1
                found.append((counter, attrs.get("hidden") in ("1", "true")))

        parser = _expat(True)
        parser.StartElementHandler = start
        with book.zf.open(part) as fh:
            while chunk := fh.read(256 * 1024):
                parser.Parse(chunk, False)
                yield from found
                found.clear()
        parser.Parse(b"", True)
        yield from found

    def __call__(self, number: int) -> bool:
        while self.seen < number:
            event = next(self.events, None)
            if event is None:
                self.seen = 1 << 40
                break
            self.seen = max(self.seen, event[0])
            if event[1]:
                self.hidden.add(event[0])
        return number in self.hidden


class OpenpyxlBook(Book):
    """The openpyxl reader (see the module documentation)."""

    reader = "openpyxl"

    def __init__(self, path: Path, *, limits: Limits = _LIMITS) -> None:
        import openpyxl

        self.path = Path(path)
        self.read_to_end = set()  # openpyxl reads whole workbooks only after the full file checks
        self.zf = zipfile.ZipFile(self.path)
        self._books: list[Any] = []
        try:
            self.parts = dict(workbook_parts(self.zf, limits)[0])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.values = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
                self._books.append(self.values)
                self.formulas = openpyxl.load_workbook(self.path, read_only=True, data_only=False)
                self._books.append(self.formulas)
        except SheetDamaged:
            self.close()
            raise
        except Exception as exc:  # as in rows(): any error of openpyxl's means a damaged workbook
            self.close()
            raise SheetDamaged(None, f"{type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        for wb in self._books:
            wb.close()
        self._books.clear()
        self.zf.close()

    def sheet_names(self) -> list[str]:
        return [ws.title for ws in self.values.worksheets]

    def rows(self, sheet: str, want: Want, gap: int) -> Iterator[SheetRow]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield from self._rows(sheet, want, gap)
        except Exception as exc:  # openpyxl on a hostile file raises all kinds of errors: all mean "damaged"
            raise SheetDamaged(sheet, f"{type(exc).__name__}: {exc}") from None

    def _rows(self, sheet: str, want: Want, gap: int) -> Iterator[SheetRow]:
        values_ws = self.values[sheet]
        formulas_ws = self.formulas[sheet]
        values_ws.reset_dimensions()  # never trust <dimension>
        formulas_ws.reset_dimensions()
        hidden = _HiddenRows(self, self.parts[sheet])
        max_col = want.max_col
        last = 0
        pairs = zip(
            values_ws.iter_rows(min_row=1, max_col=max_col, values_only=True),
            formulas_ws.iter_rows(min_row=1, max_col=max_col),
            strict=False,
        )
        for number, (value_row, formula_row) in enumerate(pairs, start=1):
            if number > max(last, HEAD_ROWS) + gap:
                return
            columns = range(1, max_col + 1) if want.columns is None else want.columns
            values: dict[int, Any] = {}
            uncached: set[int] = set()
            for column in columns:
                value = value_row[column - 1]
                if value is not None:
                    values[column] = value
                elif getattr(formula_row[column - 1], "data_type", None) == "f":
                    uncached.add(column)
            if values or uncached:
                last = number
                yield SheetRow(number, hidden(number), values, frozenset(uncached))
