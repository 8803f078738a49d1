"""A corpus of returned bid workbooks, good, odd and bad, built at run time.

Every file is read by both readers (the fast streaming reader and openpyxl),
which must agree exactly: the same Bid, or the same list of problems. Bad
files are refused with a message saying what is wrong with them; odd ones
(a value in XFD1048576, a lying ``<dimension>``, hidden rows, XML the fast
scanner does not read) are read quickly and correctly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sys
import time
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rfpflow.errors import InputFileError, Problem
from rfpflow.model import Bid, Rfp
from rfpflow.spreadsheets.bid_reader import _read_with, read_bid_workbook
from rfpflow.spreadsheets.bid_writer import write_bid_workbook
from rfpflow.spreadsheets.fast_reader import FastBook, NotCanonical
from rfpflow.spreadsheets.filecheck import Limits, check_workbook_file
from rfpflow.spreadsheets.samples import Formula, fill_bid_workbook, write_vendor_workbook
from tests.test_bid_workbooks import GOOD, load_generic

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


@attrs.frozen
class Case:
    """A corpus file and what reading it must give.

    ``refused``: a fragment of the (first) problem; ``warning``: a fragment of
    a warning of the accepted bid; ``canonical``: the fast scanner reads it
    without falling back to openpyxl; ``same_as_clean``: the bid equals the
    clean workbook's bid (apart from the file name and warnings).
    """

    name: str
    refused: str | None = None
    warning: str | None = None
    canonical: bool = True
    same_as_clean: bool = False
    vendor_name: str | None = None


def _zip_rewrite(src: Path, dst: Path, edit: Callable[[str, bytes], bytes | None],
                 add: Mapping[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = edit(info.filename, zin.read(info))
            if data is not None:
                zout.writestr(info.filename, data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


def _sheets_only(fn: Callable[[bytes], bytes]) -> Callable[[str, bytes], bytes]:
    def edit(name: str, data: bytes) -> bytes:
        return fn(data) if name.startswith("xl/worksheets/sheet") else data

    return edit


def _prefix_namespace(data: bytes) -> bytes:
    """Write the main namespace with an ``x:`` prefix, as the .NET Open XML SDK does."""
    text = data.decode()
    text = text.replace(f'xmlns="{NS}"', f'xmlns:x="{NS}"', 1)
    text = re.sub(r"<(/?)(?=[A-Za-z])(?![a-z]+:)", r"<\1x:", text)
    return text.encode()


def _pretty(data: bytes) -> bytes:
    """Line breaks and indentation between elements (as some generators write)."""
    return re.sub(rb"><(?!/t>|/v>)", b">\n  <", data)


def _fake_ole2(*stream_names: str, padding: int = 2000) -> bytes:
    header = OLE2_MAGIC + b"\x00" * 16 + b"\x3e\x00\x03\x00\xfe\xff\x09\x00" + b"\x00" * (512 - 32)
    body = b"\x00" * padding
    for name in stream_names:
        body += name.encode("utf-16-le") + b"\x00" * 64
    return header + body


@pytest.fixture(scope="module")
def rfp(tmp_path_factory: pytest.TempPathFactory) -> Rfp:
    return load_generic(tmp_path_factory.mktemp("corpus-rfp") / "ws", "en")


@pytest.fixture(scope="module")
def corpus(rfp: Rfp, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Case, Path]]:
    d = tmp_path_factory.mktemp("corpus")
    template = write_bid_workbook(rfp, d / "template.xlsx")
    clean = fill_bid_workbook(template, d / "clean.xlsx", GOOD)
    cases: dict[str, tuple[Case, Path]] = {}

    def add(case: Case, path: Path) -> None:
        cases[case.name] = (case, path)

    add(Case("clean"), clean)
    add(Case("xlsxwriter", same_as_clean=True), write_vendor_workbook(d / "xlsxwriter.xlsx", rfp, GOOD))
    add(Case("xlsxwriter-inline", same_as_clean=True),
        write_vendor_workbook(d / "xlsxwriter-inline.xlsx", rfp, GOOD, options={"constant_memory": True}))
    add(Case("date1904"), write_vendor_workbook(d / "date1904.xlsx", rfp, GOOD, options={"date_1904": True}))

    # -- files that are not workbooks, or damaged ones --------------------
    (d / "empty.xlsx").write_bytes(b"")
    add(Case("empty", refused="is empty (0 bytes)"), d / "empty.xlsx")
    data = clean.read_bytes()
    (d / "truncated.xlsx").write_bytes(data[: len(data) // 2])
    add(Case("truncated", refused="damaged or incomplete"), d / "truncated.xlsx")
    (d / "csv.xlsx").write_text("Item ID,Unit price,Comment\nL1,82000,fine\nL2,15000,see the annex\n",
                                encoding="utf-8")
    add(Case("csv", refused="CSV (comma-separated values) text file renamed .xlsx"), d / "csv.xlsx")
    (d / "legacy.xlsx").write_bytes(_fake_ole2("Root Entry", "Workbook", "\x05SummaryInformation"))
    add(Case("legacy-xls", refused="old-format Excel 97-2003 workbook (.xls)"), d / "legacy.xlsx")
    (d / "encrypted.xlsx").write_bytes(_fake_ole2("Root Entry", "EncryptionInfo", "EncryptedPackage"))
    add(Case("encrypted", refused="password-protected (encrypted)"), d / "encrypted.xlsx")
    add(Case("dtd", refused="document type declaration"), _zip_rewrite(clean, d / "dtd.xlsx", _sheets_only(
        lambda b: b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + b)))
    add(Case("broken-xml", canonical=False, refused="sheet Pricing is damaged"), _zip_rewrite(
        clean, d / "broken.xlsx", lambda n, b: b.replace(b"<v>82000</v>", b"<v>82000</x>") if n.endswith(
            "sheet5.xml") else b))
    add(Case("bad-shared-string-index", refused="sheet Company is damaged"), _zip_rewrite(
        write_vendor_workbook(d / "sst.xlsx", rfp, GOOD), d / "bad-sst.xlsx",
        lambda n, b: re.sub(rb'(<c r="B4" t="s"><v>)\d+', rb"\g<1>99999", b) if n.endswith("sheet2.xml") else b))
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Our own price list"
    wb.save(d / "own-format.xlsx")
    add(Case("no-metadata", refused="(no metadata sheet)"), d / "own-format.xlsx")

    # -- odd workbooks that must read quickly and correctly ---------------
    wb = openpyxl.load_workbook(clean)
    for ws in wb.worksheets:
        ws["XFD1048576"] = "stray"
    wb["Pricing"]["XFD1"] = "stray"
    wb.save(d / "stray-xfd.xlsx")
    add(Case("stray-xfd1048576", same_as_clean=True), d / "stray-xfd.xlsx")
    add(Case("lying-dimension", same_as_clean=True), _zip_rewrite(clean, d / "lying.xlsx", _sheets_only(
        lambda b: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', b))))
    add(Case("lying-small-dimension", same_as_clean=True), _zip_rewrite(clean, d / "small.xlsx", _sheets_only(
        lambda b: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:A1"', b))))
    big_name = {**GOOD, "company": {**GOOD["company"], "vendor_name": "B" * 32767}}
    huge = fill_bid_workbook(template, d / "huge-src.xlsx", big_name)
    add(Case("huge-cell", refused="is 1,000,000 characters long"), _zip_rewrite(
        huge, d / "huge.xlsx", _sheets_only(lambda b: b.replace(b"B" * 32767, b"B" * 1_000_000))))
    wb = openpyxl.load_workbook(clean)
    wb["Pricing"].row_dimensions[4].hidden = True
    wb["Questionnaire"].row_dimensions[5].hidden = True
    wb.save(d / "hidden.xlsx")
    add(Case("hidden-rows", warning="Pricing: hidden row 4 hold values that were read"), d / "hidden.xlsx")
    wb = openpyxl.load_workbook(clean)
    wb["Pricing"]["A8"] = "All prices exclude VAT"
    wb["Pricing"]["E9"] = 12345
    wb.save(d / "below.xlsx")
    add(Case("rows-below-total", warning="Pricing!A8: 2 rows below the total are ignored"), d / "below.xlsx")
    add(Case("xlsm", warning="macro-enabled workbook"), _zip_rewrite(
        clean, d / "macro.xlsm", lambda n, b: b, add={"xl/vbaProject.bin": OLE2_MAGIC + bytes(504)}))
    uncached = {**GOOD, "prices": {"L1": Formula("=1+1"), "L2": 3}}
    add(Case("formula-without-value", refused="formula without a calculated value"),
        fill_bid_workbook(template, d / "uncached.xlsx", uncached))
    text = {**GOOD, "company": {**GOOD["company"], "vendor_name": 'A & B <C> "D" \'E\'\r\nline two\ttab'}}
    add(Case("escaped-text", vendor_name='A & B <C> "D" \'E\'\r\nline two\ttab'),
        write_vendor_workbook(d / "escaped.xlsx", rfp, text))
    add(Case("pretty-printed", same_as_clean=True), _zip_rewrite(clean, d / "pretty.xlsx", _sheets_only(_pretty)))

    # -- valid XML the fast scanner leaves to openpyxl --------------------
    add(Case("prefixed-namespace", canonical=False, same_as_clean=True),
        _zip_rewrite(clean, d / "prefixed.xlsx", _sheets_only(_prefix_namespace)))
    add(Case("cells-without-r", canonical=False, same_as_clean=True), _zip_rewrite(
        clean, d / "no-r.xlsx", _sheets_only(lambda b: re.sub(rb'<c r="[A-Z]+[0-9]+"', b"<c", b))))
    add(Case("comment-in-sheet-data", canonical=False, same_as_clean=True), _zip_rewrite(
        clean, d / "comment.xlsx", _sheets_only(lambda b: b.replace(b"</row>", b"</row><!-- n -->", 1))))
    add(Case("rich-text-colour", vendor_name="Acme Hotline Services Ltd."), _zip_rewrite(
        clean, d / "rich.xlsx", lambda n, b: b.replace(
            b"<is><t>Acme Hotline Services Ltd.</t></is>",
            b'<is><r><rPr><b/><color rgb="FFFF0000"/></rPr><t>Acme</t></r><r><t xml:space="preserve"> Hotline '
            b"Services Ltd.</t></r></is>") if n.endswith("sheet2.xml") else b))
    add(Case("rich-text-plain", vendor_name="Acme Hotline Services Ltd."), _zip_rewrite(
        clean, d / "rich2.xlsx", lambda n, b: b.replace(
            b"<is><t>Acme Hotline Services Ltd.</t></is>",
            b"<is><r><rPr><b/></rPr><t>Acme</t></r><r><t xml:space=\"preserve\"> Hotline Services Ltd.</t></r>"
            b"<rPh sb=\"0\" eb=\"1\"><t>ignored</t></rPh></is>") if n.endswith("sheet2.xml") else b))
    sst = write_vendor_workbook(d / "sst-src.xlsx", rfp, GOOD)
    add(Case("shared-rich-text-and-phonetic", vendor_name="Acme Hotline Services Ltd."), _zip_rewrite(
        sst, d / "sst-rich.xlsx", lambda n, b: b.replace(
            b"<si><t>Acme Hotline Services Ltd.</t></si>",
            b"<si><r><t>Acme</t></r><r><rPr><i/></rPr><t xml:space=\"preserve\"> Hotline Services Ltd.</t></r>"
            b"<rPh sb=\"0\" eb=\"1\"><t>akume</t></rPh></si>") if n.endswith("sharedStrings.xml") else b))
    add(Case("cell-between-rows", canonical=False, same_as_clean=True), _zip_rewrite(
        clean, d / "between.xlsx", lambda n, b: b.replace(
            b'</row><row r="5">', b'</row><extra><c r="E4" t="n"><v>1</v></c></extra><row r="5">', 1)
        if n.endswith("sheet5.xml") else b))
    add(Case("repeated-row", same_as_clean=True), _zip_rewrite(clean, d / "repeated.xlsx", lambda n, b: b.replace(
        b'<row r="5">', b'<row r="4"><c r="E4" t="n"><v>1</v></c></row><row r="5">', 1)
        if n.endswith("sheet5.xml") else b))
    return cases


def _outcome(path: Path, rfp: Rfp, reader: str) -> Bid | list[Problem]:
    try:
        return read_bid_workbook(path, rfp, reader=reader)
    except InputFileError as exc:
        return list(exc.problems)


CASES = [
    "clean", "xlsxwriter", "xlsxwriter-inline", "date1904", "empty", "truncated", "csv", "legacy-xls", "encrypted",
    "dtd", "broken-xml", "bad-shared-string-index", "no-metadata", "stray-xfd1048576", "lying-dimension",
    "lying-small-dimension", "huge-cell", "hidden-rows", "rows-below-total", "xlsm", "formula-without-value",
    "escaped-text", "pretty-printed", "prefixed-namespace", "cells-without-r", "comment-in-sheet-data",
    "rich-text-colour", "rich-text-plain", "shared-rich-text-and-phonetic", "repeated-row", "cell-between-rows",
]


def test_corpus_lists_every_case(corpus: dict[str, tuple[Case, Path]]) -> None:
    assert sorted(corpus) == sorted(CASES)
    assert sorted(SAME_AS_CLEAN) == sorted(n for n, (case, _) in corpus.items() if case.same_as_clean)


@pytest.mark.parametrize("name", CASES)
def test_both_readers_agree(name: str, corpus: dict[str, tuple[Case, Path]], rfp: Rfp) -> None:
    case, path = corpus[name]
    started = time.perf_counter()
    fast = _outcome(path, rfp, "fast")
    slow = _outcome(path, rfp, "openpyxl")
    assert time.perf_counter() - started < 5, "reading must stay quick whatever the file claims"
    assert fast == slow
    if case.refused:
        assert isinstance(fast, list), f"{name} was accepted"
        assert case.refused in str(fast[0]), fast
    else:
        assert isinstance(fast, Bid), [str(p) for p in fast] if isinstance(fast, list) else fast
        if case.warning:
            assert any(case.warning in w for w in fast.warnings), fast.warnings
        if case.vendor_name is not None:
            assert fast.vendor_name == case.vendor_name


SAME_AS_CLEAN = [
    "xlsxwriter", "xlsxwriter-inline", "stray-xfd1048576", "lying-dimension", "lying-small-dimension",
    "pretty-printed", "prefixed-namespace", "cells-without-r", "comment-in-sheet-data", "repeated-row",
    "cell-between-rows",
]


@pytest.mark.parametrize("name", SAME_AS_CLEAN)
def test_odd_but_equivalent_workbooks_give_the_clean_bid(
    name: str, corpus: dict[str, tuple[Case, Path]], rfp: Rfp
) -> None:
    case, path = corpus[name]
    assert case.same_as_clean
    clean = read_bid_workbook(corpus["clean"][1], rfp)
    bid = read_bid_workbook(path, rfp)
    assert attrs.evolve(bid, source_file=clean.source_file, vendor_id=clean.vendor_id, warnings=()) == attrs.evolve(
        clean, warnings=())


@pytest.mark.parametrize("name", CASES)
def test_fast_scanner_reads_canonical_files_itself(name: str, corpus: dict[str, tuple[Case, Path]], rfp: Rfp) -> None:
    case, path = corpus[name]
    try:
        info = check_workbook_file(path)
    except InputFileError:
        return  # refused before any reader runs
    if case.canonical:
        with contextlib.suppress(InputFileError):  # a refusal is fine; falling back is not
            _read_with(FastBook, path, rfp, info, path.name, Limits())
    else:
        with pytest.raises(NotCanonical):
            _read_with(FastBook, path, rfp, info, path.name, Limits())


def test_stray_cell_in_the_last_row_costs_nothing(corpus: dict[str, tuple[Case, Path]], rfp: Rfp) -> None:
    path = corpus["stray-xfd1048576"][1]
    with zipfile.ZipFile(path) as zf:
        sheet = zf.read("xl/worksheets/sheet5.xml")
    assert b'ref="A1:XFD1048576"' in sheet and b'<c r="XFD1048576"' in sheet
    for reader in ("fast", "openpyxl"):
        started = time.perf_counter()
        bid = read_bid_workbook(path, rfp, reader=reader)
        assert time.perf_counter() - started < 2
        assert bid.total_price == read_bid_workbook(corpus["clean"][1], rfp).total_price


def test_readers_agree_on_generated_variations(rfp: Rfp, tmp_path: Path) -> None:
    """Many small variations of values and layout, each read by both readers."""
    values: list[Any] = [0, 1, -1, 2.5, 1e-7, 123456789012345678, "１２３", " 980 ", "¥1,200", "1.5万", "abc", "",
                         " ", True, "2027/3/1", 46082, 46082.5, "=literal text", "是", "Y", "maybe", None]
    for i, value in enumerate(values):
        data: dict[str, Any] = {
            "company": {**GOOD["company"], "headcount": value, "year_established": value},
            "certifications": [("ISO 9001", value, value)],
            "answers": {"Q1": value, "Q2": "Yes", "Q3": value},
            "prices": {"L1": value, "L2": 1},
        }
        path = write_vendor_workbook(tmp_path / f"v{i}.xlsx", rfp, data)
        assert _outcome(path, rfp, "fast") == _outcome(path, rfp, "openpyxl"), value


def test_refusals_name_the_file_as_given(corpus: dict[str, tuple[Case, Path]], rfp: Rfp) -> None:
    with pytest.raises(InputFileError) as info:
        read_bid_workbook(corpus["csv"][1], rfp, display="bids/acme.xlsx")
    assert str(info.value).splitlines()[0] == "bids/acme.xlsx: 1 problem"
    assert info.value.problems[0].file == "bids/acme.xlsx"


def test_runaway_table_is_cut_and_refused(rfp: Rfp, tmp_path: Path) -> None:
    items = {f"X{i}": i for i in range(1200)}  # rows the RFP does not have, each with a value
    path = write_vendor_workbook(tmp_path / "acme.xlsx", rfp, GOOD)
    wb = openpyxl.load_workbook(path)
    ws = wb["Pricing"]
    for offset, (item, price) in enumerate(items.items()):
        ws.cell(row=7 + offset, column=7, value=f"note {item} {price}")
        ws.cell(row=7 + offset, column=1, value=" ")
    wb.save(path)
    for reader in ("fast", "openpyxl"):
        problems = _outcome(path, rfp, reader)
        assert isinstance(problems, list)
        assert [(p.place, p.message) for p in problems] == [(
            "Pricing!1006:1006", "the Pricing sheet has more than 1,002 rows with values below its header; the rest "
                                 "was not read — ask the vendor to remove the rows that are not part of the bid")]


def test_short_number_path_equals_parse_number() -> None:
    import random

    from rfpflow.spreadsheets.bid_reader import number_of
    from rfpflow.spreadsheets.cells import CellValueError, parse_number

    rng = random.Random(7)
    floats = [0.0, -0.0, 1e16, 1.5e-7, 123456789012345.6, 0.1 + 0.2, float("inf"), float("nan"), -12.25, 1e300]
    floats += [rng.uniform(-1e9, 1e9) for _ in range(2000)] + [round(rng.uniform(0, 1e6), 2) for _ in range(2000)]
    values: list[object] = [*floats, 0, 7, -3, 10**20, True]
    for value in values:
        try:
            expected: object = parse_number(value, "unit price")  # type: ignore[arg-type]
        except CellValueError as exc:
            expected = str(exc)
        try:
            got: object = number_of(value, "unit price")
        except CellValueError as exc:
            got = str(exc)
        assert str(got) == str(expected), value


_cell_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.text(max_size=40),
    st.sampled_from(["1,234.50", "¥1,200", "１２３", " 980 ", "2027/3/1", "是", "Y", "=1+1", "&amp;<>", "_x000D_"]),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(_cell_values, min_size=6, max_size=6), rich=st.booleans())
def test_readers_agree_on_random_values(rfp: Rfp, tmp_path: Path, values: list[Any], rich: bool) -> None:
    name, headcount, number, expiry, answer, price = values
    data: dict[str, Any] = {
        "company": {**GOOD["company"], "vendor_name": name, "headcount": headcount},
        "certifications": [("ISO 9001", number, expiry)],
        "answers": {"Q1": answer, "Q2": "Yes"},
        "prices": {"L1": price, "L2": 1},
    }
    options = {"constant_memory": True} if rich else None
    path = write_vendor_workbook(tmp_path / "random.xlsx", rfp, data, options=options)
    assert _outcome(path, rfp, "fast") == _outcome(path, rfp, "openpyxl")


_TOKENS = (b"<", b">", b"/", b'"', b"'", b" ", b"&", b"&amp;", b'<c r="E4">', b"</c>", b'<row r="5">', b"</row>",
           b"<v>", b"</v>", b"<f>", b"x:", b"\r", b"<!--x-->", b"1", b"A", b't="s"', b's="1"', b'hidden="1" ')
_PARTS = ("xl/worksheets/sheet2.xml", "xl/worksheets/sheet4.xml", "xl/worksheets/sheet5.xml", "xl/sharedStrings.xml")


def _mutations(corpus: dict[str, tuple[Case, Path]], rfp: Rfp, tmp_path: Path, count: int, seed: int) -> None:
    """Random damage to the sheet XML. The readers must agree -- except that
    openpyxl also refuses a sheet for damage in what the fast reader does not
    read (cells of other columns, page setup, protection), so a bid from the
    fast reader next to openpyxl's "damaged" is the one accepted difference."""
    import random

    rng = random.Random(seed)
    sources = [corpus["clean"][1], corpus["xlsxwriter"][1]]
    for i in range(count):
        part = rng.choice(_PARTS)

        def damage(name: str, data: bytes, part: str = part) -> bytes:
            if name != part:
                return data
            buf = bytearray(data)
            low = max(0, buf.find(b"<sheetData"))
            for _ in range(rng.randint(1, 3)):
                at = rng.randrange(low, len(buf))
                op = rng.random()
                if op < 0.4:
                    buf[at:at] = rng.choice(_TOKENS)
                elif op < 0.7:
                    del buf[at:at + rng.randint(1, 8)]
                else:
                    buf[at:at + 1] = rng.choice(_TOKENS)
            return bytes(buf)

        path = _zip_rewrite(sources[i % 2], tmp_path / f"m{i}.xlsx", damage)
        fast = _outcome(path, rfp, "fast")
        slow = _outcome(path, rfp, "openpyxl")
        if fast != slow:
            assert isinstance(fast, Bid), (i, part, fast, slow)
            assert isinstance(slow, list) and len(slow) == 1, (i, part, slow)
            assert "is damaged" in slow[0].message, (i, part, slow)


def test_damaged_xml_never_splits_the_readers(
    corpus: dict[str, tuple[Case, Path]], rfp: Rfp, tmp_path: Path
) -> None:
    _mutations(corpus, rfp, tmp_path, 30, seed=1)


@pytest.mark.slow
def test_damaged_xml_never_splits_the_readers_long(
    corpus: dict[str, tuple[Case, Path]], rfp: Rfp, tmp_path: Path
) -> None:
    _mutations(corpus, rfp, tmp_path, 1500, seed=2)


_ALL_DEFERRED = Limits(verify_while_reading_min=0)
"""Every part left to the fast reader to check as it reads, and the rest checked afterwards (by
default only parts of 4 MB and more are)."""
_NONE_DEFERRED = Limits(verify_while_reading_min=2**62)
"""Every part unpacked by the file checks first."""


def _outcome_with(path: Path, rfp: Rfp, limits: Limits) -> Bid | list[Problem]:
    try:
        return read_bid_workbook(path, rfp, limits=limits)
    except InputFileError as exc:
        return list(exc.problems)


@pytest.mark.parametrize("name", CASES)
def test_verifying_parts_while_reading_changes_no_outcome(
    name: str, corpus: dict[str, tuple[Case, Path]], rfp: Rfp
) -> None:
    path = corpus[name][1]
    assert _outcome_with(path, rfp, _ALL_DEFERRED) == _outcome_with(path, rfp, _NONE_DEFERRED)


@pytest.mark.parametrize("part", ["xl/worksheets/sheet5.xml", "xl/worksheets/sheet1.xml", "xl/styles.xml",
                                  "docProps/app.xml", "xl/sharedStrings.xml"])
def test_a_crc_error_in_a_part_verified_while_reading_is_still_refused_as_damaged(
    part: str, corpus: dict[str, tuple[Case, Path]], rfp: Rfp, tmp_path: Path
) -> None:
    """Pricing (read to the end), Instructions (never read), styles, document properties and the
    shared strings (xlsxwriter's workbook has them): each damaged in turn."""
    from tests.hostile.xlsx_edit import corrupt_member

    source = corpus["xlsxwriter"][1]
    damaged = corrupt_member(source, tmp_path / "damaged.xlsx", part)
    assert part in check_workbook_file(source, limits=_ALL_DEFERRED, defer_large=True).unverified

    deferred = _outcome_with(damaged, rfp, _ALL_DEFERRED)

    assert deferred == _outcome_with(damaged, rfp, _NONE_DEFERRED)
    assert isinstance(deferred, list) and "is a damaged Excel file" in deferred[0].message, deferred
    assert deferred[0].place == part


@pytest.fixture
def scan_in_child(monkeypatch: pytest.MonkeyPatch, forks: list[int]) -> Callable[[bool], None]:
    """Switch the child scanning process on for every sheet (not only for sheets
    of 4 MB and more), or off. The ``forks`` fixture counts the children."""
    import rfpflow.spreadsheets.fast_reader

    def switch(on: bool) -> None:
        monkeypatch.setattr(rfpflow.spreadsheets.fast_reader, "CHILD_SCAN_MIN", 0)
        monkeypatch.setenv("RFPFLOW_NO_FORK", "0" if on else "1")

    return switch


_FORKING = pytest.mark.skipif(sys.platform != "linux" or (os.cpu_count() or 1) < 2,
                              reason="the scanning child process is forked on Linux with more than one CPU only")


def _no_child_left() -> bool:
    """No child process of this one is left, running or unreaped."""
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@_FORKING
@pytest.mark.parametrize("name", CASES)
def test_a_sheet_scanned_by_a_child_process_reads_the_same(
    name: str, corpus: dict[str, tuple[Case, Path]], rfp: Rfp, scan_in_child: Callable[[bool], None],
    forks: list[int],
) -> None:
    path = corpus[name][1]
    scan_in_child(False)
    alone = _outcome(path, rfp, "fast")
    scan_in_child(True)
    before = len(forks)

    assert _outcome(path, rfp, "fast") == alone
    assert _no_child_left()
    if name == "clean":
        assert len(forks) > before, "no sheet was scanned by a child"


@_FORKING
def test_a_child_scanning_a_runaway_table_is_stopped_and_reaped(
    rfp: Rfp, tmp_path: Path, scan_in_child: Callable[[bool], None]
) -> None:
    """The reader stops taking rows after the table's limit; the child still scanning is ended."""
    path = write_vendor_workbook(tmp_path / "acme.xlsx", rfp, GOOD)
    wb = openpyxl.load_workbook(path)
    for offset in range(5000):
        wb["Pricing"].cell(row=7 + offset, column=1, value=f"X{offset}")
    wb.save(path)
    scan_in_child(True)

    problems = _outcome(path, rfp, "fast")

    assert isinstance(problems, list) and "more than 1,002 rows" in problems[0].message
    assert _no_child_left()


@_FORKING
def test_damaged_xml_scanned_by_a_child_never_splits_the_readers(
    corpus: dict[str, tuple[Case, Path]], rfp: Rfp, tmp_path: Path, scan_in_child: Callable[[bool], None]
) -> None:
    scan_in_child(True)
    _mutations(corpus, rfp, tmp_path, 30, seed=3)
    assert _no_child_left()
