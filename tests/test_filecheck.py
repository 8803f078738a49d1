"""Tests for rfpflow.spreadsheets.filecheck. Every file, good or bad, is built here at run time."""

from __future__ import annotations

import random
import struct
import zipfile
from collections.abc import Mapping
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from rfpflow.errors import InputFileError, RfpflowError
from rfpflow.spreadsheets.filecheck import (
    MACRO_WARNING,
    Limits,
    WorkbookFileInfo,
    bounded_read,
    check_workbook_file,
    check_xml_safety,
    ref_shape,
    sheet_dimensions,
)

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# ---------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------


def openpyxl_book(path: Path, sheets: int = 1) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Pricing"
    ws["A1"] = "Item"
    ws["B1"] = "Unit price"
    ws["A2"] = "Laptop"
    ws["B2"] = 1234.5
    ws["C3"] = "=B2*2"
    for i in range(1, sheets):
        wb.create_sheet(f"Sheet{i + 1}")
    wb.save(path)
    return path


def xlsxwriter_book(path: Path, options: Mapping[str, object] | None = None) -> Path:
    wb = xlsxwriter.Workbook(str(path), dict(options or {}))
    ws = wb.add_worksheet("Pricing")
    ws.write("A1", "Item")
    ws.write("B1", "Unit price")
    ws.write("A2", "Laptop")
    ws.write_number("B2", 1234.5)
    wb.close()
    return path


def rewrite_zip(
    src: Path,
    dst: Path,
    *,
    replace: Mapping[str, bytes] | None = None,
    add: Mapping[str, bytes] | None = None,
    drop: frozenset[str] = frozenset(),
) -> Path:
    replace = dict(replace or {})
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            data = replace.pop(info.filename, None)
            zout.writestr(info.filename, data if data is not None else zin.read(info))
        for name, data in {**replace, **(add or {})}.items():
            zout.writestr(name, data)
    return dst


def make_zip(path: Path, members: Mapping[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def refusal(path: Path, limits: Limits | None = None) -> str:
    with pytest.raises(InputFileError) as info:
        if limits is None:
            check_workbook_file(path)
        else:
            check_workbook_file(path, limits=limits)
    message = str(info.value)
    assert str(path) in message
    assert info.value.problems and info.value.problems[0].file == str(path)
    return message


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return openpyxl_book(tmp_path / "good.xlsx")


# ---------------------------------------------------------------------------
# Good workbooks
# ---------------------------------------------------------------------------


def test_openpyxl_workbook_is_accepted(good: Path) -> None:
    info = check_workbook_file(good)
    assert isinstance(info, WorkbookFileInfo)
    assert info.path == good
    assert info.kind == "xlsx"
    assert info.date1904 is False
    assert info.sheet_count == 1
    assert info.warnings == ()
    assert "xl/workbook.xml" in info.member_names
    assert info.total_uncompressed == sum(i.file_size for i in zipfile.ZipFile(good).infolist())


def test_xlsxwriter_workbook_is_accepted(tmp_path: Path) -> None:
    info = check_workbook_file(xlsxwriter_book(tmp_path / "xw.xlsx"))
    assert info.kind == "xlsx"
    assert info.date1904 is False
    assert info.sheet_count == 1


def test_date1904_flag_is_read(tmp_path: Path) -> None:
    info = check_workbook_file(xlsxwriter_book(tmp_path / "mac.xlsx", {"date_1904": True}))
    assert info.date1904 is True


def test_several_sheets_are_counted(tmp_path: Path) -> None:
    assert check_workbook_file(openpyxl_book(tmp_path / "five.xlsx", sheets=5)).sheet_count == 5


def test_extension_does_not_matter(tmp_path: Path) -> None:
    path = openpyxl_book(tmp_path / "bid.dat")
    assert check_workbook_file(path).kind == "xlsx"


def test_comment_before_root_is_fine(tmp_path: Path, good: Path) -> None:
    with zipfile.ZipFile(good) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    patched = b'<?xml version="1.0"?>\n<!-- made by hand -->\n' + sheet
    path = rewrite_zip(good, tmp_path / "comment.xlsx", replace={"xl/worksheets/sheet1.xml": patched})
    check_workbook_file(path)


# ---------------------------------------------------------------------------
# Not a ZIP at all
# ---------------------------------------------------------------------------


def test_missing_and_folder(tmp_path: Path) -> None:
    assert "does not exist" in refusal(tmp_path / "nope.xlsx")
    assert "is a folder" in refusal(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    message = refusal(path)
    assert "is empty (0 bytes)" in message
    assert "send the file again" in message


def test_truncated_workbook(tmp_path: Path, good: Path) -> None:
    data = good.read_bytes()
    path = tmp_path / "half.xlsx"
    path.write_bytes(data[: len(data) // 2])
    message = refusal(path)
    assert "damaged or incomplete Excel file" in message
    assert "send the file again" in message


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.xlsx"
    path.write_bytes(b"\x00\x01" + random.Random(1).randbytes(4094))
    message = refusal(path)
    assert "is not an Excel workbook" in message
    assert "neither an .xlsx (ZIP) file nor any other known format" in message


def test_csv_renamed(tmp_path: Path) -> None:
    path = tmp_path / "bid.xlsx"
    path.write_text("Item,Unit price,Qty\nLaptop,1234.50,3\nMouse,12.00,10\n", encoding="utf-8")
    message = refusal(path)
    assert "is a CSV (comma-separated values) text file renamed .xlsx" in message
    assert "save it as" in message and "xlsx" in message


def test_csv_with_bom_and_chinese(tmp_path: Path) -> None:
    path = tmp_path / "报价.xlsx"
    path.write_bytes("\ufeff品名,单价\n笔记本,1234.5\n".encode())
    assert "CSV" in refusal(path)


def test_gbk_semicolon_csv(tmp_path: Path) -> None:
    path = tmp_path / "bid.xlsx"
    path.write_bytes("品名;单价\n笔记本;1234,5\n".encode("gbk"))
    assert "semicolon-separated" in refusal(path)


def test_tsv_renamed(tmp_path: Path) -> None:
    path = tmp_path / "bid.xls"
    path.write_text("Item\tPrice\nLaptop\t1234.5\n", encoding="utf-8")
    assert "tab-separated (TSV) text file renamed .xls" in refusal(path)


def test_plain_text(tmp_path: Path) -> None:
    path = tmp_path / "bid.xlsx"
    path.write_text("Please find our bid attached.\n", encoding="utf-8")
    assert "plain text file" in refusal(path)


def test_html_renamed(tmp_path: Path) -> None:
    path = tmp_path / "export.xls"
    path.write_text(
        '<html xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel">\n<head><meta charset="utf-8"></head>\n'
        "<body><table><tr><td>Item</td><td>Price</td></tr></table></body></html>\n",
        encoding="utf-8",
    )
    message = refusal(path)
    assert "is a web page (HTML) renamed .xls" in message
    assert "save it as" in message


def test_mhtml_renamed(tmp_path: Path) -> None:
    path = tmp_path / "export.xls"
    path.write_text('MIME-Version: 1.0\nContent-Type: multipart/related; boundary="x"\n\n', encoding="ascii")
    assert "single file web page" in refusal(path)


def test_excel_2003_xml(tmp_path: Path) -> None:
    path = tmp_path / "old.xml.xls"
    path.write_text(
        '<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"></Workbook>\n',
        encoding="utf-8",
    )
    assert "Excel 2003 XML spreadsheet" in refusal(path)


def test_pdf(tmp_path: Path) -> None:
    path = tmp_path / "bid.xlsx"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    assert "is a PDF document" in refusal(path)


def fake_ole2(*stream_names: str, padding: int = 2000) -> bytes:
    header = OLE2_MAGIC + b"\x00" * 16 + b"\x3e\x00\x03\x00\xfe\xff\x09\x00" + b"\x00" * (512 - 32)
    body = b"\x00" * padding
    for name in stream_names:
        body += name.encode("utf-16-le") + b"\x00" * 64
    return header + body


def test_legacy_xls(tmp_path: Path) -> None:
    path = tmp_path / "bid.xlsx"
    path.write_bytes(fake_ole2("Root Entry", "Workbook", "\x05SummaryInformation"))
    message = refusal(path)
    assert "is an old-format Excel 97-2003 workbook (.xls)" in message
    assert "save it as" in message


def test_encrypted_workbook(tmp_path: Path) -> None:
    path = tmp_path / "locked.xlsx"
    path.write_bytes(fake_ole2("Root Entry", "EncryptionInfo", "EncryptedPackage"))
    message = refusal(path)
    assert "password-protected (encrypted) Excel workbook" in message
    assert "remove the password" in message


def test_encrypted_stream_name_found_far_into_the_file(tmp_path: Path) -> None:
    # The directory sector can be anywhere; the scan reads the whole file in
    # chunks and must find a name split across a chunk boundary.
    path = tmp_path / "locked.xlsx"
    path.write_bytes(fake_ole2("EncryptedPackage", padding=1024 * 1024 - 512 - 10))
    assert "password-protected" in refusal(path)


def test_old_word_document(tmp_path: Path) -> None:
    path = tmp_path / "bid.xls"
    path.write_bytes(fake_ole2("Root Entry", "WordDocument"))
    assert "Word document (.doc)" in refusal(path)


# ---------------------------------------------------------------------------
# ZIP, but not a workbook
# ---------------------------------------------------------------------------


def test_docx(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "bid.xlsx",
        {
            "[Content_Types].xml": b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
            "_rels/.rels": b"<Relationships/>",
            "word/document.xml": b"<w:document/>",
        },
    )
    assert "is a Word document (.docx)" in refusal(path)


def test_ods(tmp_path: Path) -> None:
    path = tmp_path / "bid.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        zf.writestr("content.xml", "<office:document-content/>", zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", "<manifest/>", zipfile.ZIP_DEFLATED)
    message = refusal(path)
    assert "is an OpenDocument spreadsheet (.ods" in message
    assert "save it as" in message


def test_xlsb(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "bid.xlsx", {"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": b"\x83\x01"})
    assert "Excel Binary Workbook (.xlsb)" in refusal(path)


def test_zip_containing_a_workbook(tmp_path: Path, good: Path) -> None:
    path = make_zip(tmp_path / "bid.xlsx", {"bids/vendor-a.xlsx": good.read_bytes()})
    message = refusal(path)
    assert "ZIP archive containing bids/vendor-a.xlsx" in message
    assert "extract the workbook" in message


def test_plain_zip(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "bid.xlsx", {"readme.txt": b"hello"})
    assert "is a ZIP archive, not an Excel workbook" in refusal(path)


def test_office_zip_without_workbook_part(tmp_path: Path, good: Path) -> None:
    path = rewrite_zip(good, tmp_path / "hollow.xlsx", drop=frozenset({"xl/workbook.xml"}))
    assert "without a workbook part (xl/workbook.xml)" in refusal(path)


# ---------------------------------------------------------------------------
# Macros and links: warnings, not refusals
# ---------------------------------------------------------------------------


def test_macro_enabled_workbook_is_accepted_with_warning(tmp_path: Path, good: Path) -> None:
    path = rewrite_zip(good, tmp_path / "bid.xlsm", add={"xl/vbaProject.bin": OLE2_MAGIC + b"\x00" * 504})
    info = check_workbook_file(path)
    assert info.kind == "xlsm"
    assert info.warnings == (MACRO_WARNING,)
    assert MACRO_WARNING == "macro-enabled workbook: macros are ignored, only cell values are read"


def test_macro_content_type_alone_marks_xlsm(tmp_path: Path, good: Path) -> None:
    with zipfile.ZipFile(good) as zf:
        types = zf.read("[Content_Types].xml")
    types = types.replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    path = rewrite_zip(good, tmp_path / "bid.xlsx", replace={"[Content_Types].xml": types})
    assert check_workbook_file(path).kind == "xlsm"


def test_external_links_warn(tmp_path: Path, good: Path) -> None:
    path = rewrite_zip(good, tmp_path / "linked.xlsx", add={"xl/externalLinks/externalLink1.xml": b"<externalLink/>"})
    info = check_workbook_file(path)
    assert info.kind == "xlsx"
    assert any("links to other workbooks" in w for w in info.warnings)


# ---------------------------------------------------------------------------
# Zip bombs and sizes
# ---------------------------------------------------------------------------


def test_zip_bomb_ratio_with_default_limits(tmp_path: Path, good: Path) -> None:
    bomb = b"\x00" * (2 * 1024 * 1024)
    path = rewrite_zip(good, tmp_path / "bomb.xlsx", replace={"xl/worksheets/sheet1.xml": bomb})
    message = refusal(path)
    assert "possible ZIP bomb" in message
    assert "xl/worksheets/sheet1.xml" in message
    assert "limit 200:1" in message


def test_zip_bomb_ratio_with_small_limits(tmp_path: Path, good: Path) -> None:
    bomb = b"<row/>" * 20_000
    path = rewrite_zip(good, tmp_path / "bomb.xlsx", replace={"xl/worksheets/sheet1.xml": bomb})
    limits = Limits(ratio_min_size=64 * 1024, max_compression_ratio=50)
    assert "possible ZIP bomb" in refusal(path, limits)
    check_workbook_file(good, limits=limits)


def test_member_size_limit(good: Path) -> None:
    message = refusal(good, Limits(max_member_uncompressed=2000))
    assert "would unpack to" in message and "possible ZIP bomb" in message


def test_total_size_limit(good: Path) -> None:
    assert "the limit for a workbook" in refusal(good, Limits(max_total_uncompressed=10_000))


def test_member_count_limit(good: Path) -> None:
    message = refusal(good, Limits(max_members=5))
    assert "more than the limit of 5" in message


def test_file_size_limit(good: Path) -> None:
    assert "larger than the limit" in refusal(good, Limits(max_file_size=100))


def test_too_many_sheets(tmp_path: Path) -> None:
    path = openpyxl_book(tmp_path / "many.xlsx", sheets=5)
    message = refusal(path, Limits(max_sheets=3))
    assert "has 5 worksheets, more than the limit of 3" in message
    check_workbook_file(path, limits=Limits(max_sheets=5))


def test_duplicate_member_names(tmp_path: Path, good: Path) -> None:
    path = tmp_path / "dup.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
        with pytest.warns(UserWarning, match="Duplicate name"):
            zout.writestr("xl/worksheets/sheet1.xml", b"<worksheet/>")
    assert "contains the part xl/worksheets/sheet1.xml twice" in refusal(path)


def test_bounded_read(good: Path) -> None:
    with zipfile.ZipFile(good) as zf:
        real = zf.getinfo("xl/styles.xml").file_size
        assert len(bounded_read(zf, "xl/styles.xml", real)) == real
        with pytest.raises(InputFileError) as info:
            bounded_read(zf, "xl/styles.xml", real - 1)
        assert "unpacks to more than" in str(info.value)
        assert info.value.problems[0].place == "xl/styles.xml"
        with pytest.raises(InputFileError, match="has no part named"):
            bounded_read(zf, "xl/nothing.xml", 100)


def _patch_declared_size(data: bytes, name: bytes, new_size: int) -> bytes:
    """Make the ZIP directory lie about a member's uncompressed size, in both
    the local header and the central directory."""
    out = bytearray(data)
    at = out.find(b"PK\x03\x04" + b"")
    while at >= 0:
        name_len = struct.unpack_from("<H", out, at + 26)[0]
        if out[at + 30 : at + 30 + name_len] == name:
            struct.pack_into("<I", out, at + 22, new_size)
        at = out.find(b"PK\x03\x04", at + 4)
    at = out.find(b"PK\x01\x02")
    while at >= 0:
        name_len = struct.unpack_from("<H", out, at + 28)[0]
        if out[at + 46 : at + 46 + name_len] == name:
            struct.pack_into("<I", out, at + 24, new_size)
        at = out.find(b"PK\x01\x02", at + 4)
    return bytes(out)


def test_member_lying_about_its_size(tmp_path: Path, good: Path) -> None:
    sheet = b"<worksheet><sheetData>" + b"<row/>" * 50_000 + b"</sheetData></worksheet>"
    honest = rewrite_zip(good, tmp_path / "honest.xlsx", replace={"xl/worksheets/sheet1.xml": sheet})
    lying = tmp_path / "lying.xlsx"
    lying.write_bytes(_patch_declared_size(honest.read_bytes(), b"xl/worksheets/sheet1.xml", 1000))
    with zipfile.ZipFile(lying) as zf:
        assert zf.getinfo("xl/worksheets/sheet1.xml").file_size == 1000
    message = refusal(lying)
    assert "part xl/worksheets/sheet1.xml is corrupt or cut short" in message


def test_corrupt_member_data(tmp_path: Path, good: Path) -> None:
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("xl/styles.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 10, start + 40):
        data[i] ^= 0xFF
    path = tmp_path / "corrupt.xlsx"
    path.write_bytes(bytes(data))
    assert "is a damaged Excel file" in refusal(path)


# ---------------------------------------------------------------------------
# XML entity attacks
# ---------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">
<si><t>&lol3;</t></si></sst>
"""


def test_billion_laughs_in_shared_strings(tmp_path: Path) -> None:
    src = xlsxwriter_book(tmp_path / "src.xlsx")
    path = rewrite_zip(src, tmp_path / "laughs.xlsx", replace={"xl/sharedStrings.xml": BILLION_LAUGHS})
    message = refusal(path)
    assert "contains an XML document type declaration, which spreadsheet programs never write" in message
    assert "possible XML entity attack" in message
    assert "xl/sharedStrings.xml" in message


def test_external_entity_in_workbook_part(tmp_path: Path, good: Path) -> None:
    with zipfile.ZipFile(good) as zf:
        workbook = zf.read("xl/workbook.xml")
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + workbook
    path = rewrite_zip(good, tmp_path / "xxe.xlsx", replace={"xl/workbook.xml": evil})
    assert "XML entity attack" in refusal(path)


def test_doctype_hidden_after_comment_in_utf16(tmp_path: Path, good: Path) -> None:
    evil = '\ufeff<?xml version="1.0" encoding="UTF-16"?><!-- hi --><!DOCTYPE x [<!ENTITY a "b">]><worksheet/>'
    path = rewrite_zip(good, tmp_path / "u16.xlsx", replace={"xl/worksheets/sheet1.xml": evil.encode("utf-16-le")})
    assert "XML entity attack" in refusal(path)


def test_overlong_prolog(tmp_path: Path, good: Path) -> None:
    evil = b'<?xml version="1.0"?>' + b" " * 70_000 + b"<worksheet/>"
    path = rewrite_zip(good, tmp_path / "long.xlsx", replace={"xl/worksheets/sheet1.xml": evil})
    assert "preamble is longer than" in refusal(path)


def test_damaged_workbook_xml(tmp_path: Path, good: Path) -> None:
    path = rewrite_zip(good, tmp_path / "bad.xlsx", replace={"xl/workbook.xml": b"<workbook><sheets>"})
    assert "xl/workbook.xml is not well-formed XML" in refusal(path)


def test_check_xml_safety(monkeypatch: pytest.MonkeyPatch) -> None:
    check_xml_safety()
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML is True
    monkeypatch.setattr(openpyxl.xml, "DEFUSEDXML", False)
    with pytest.raises(RfpflowError, match="not using defusedxml"):
        check_xml_safety()


# ---------------------------------------------------------------------------
# Used ranges
# ---------------------------------------------------------------------------


def test_sheet_dimensions(tmp_path: Path, good: Path) -> None:
    assert sheet_dimensions(good) == {"xl/worksheets/sheet1.xml": "A1:C3"}
    xw = xlsxwriter_book(tmp_path / "xw.xlsx")
    assert sheet_dimensions(xw) == {"xl/worksheets/sheet1.xml": "A1:B2"}


def test_huge_declared_dimension(tmp_path: Path, good: Path) -> None:
    with zipfile.ZipFile(good) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    sheet = sheet.replace(b'<dimension ref="A1:C3" />', b'<x:dimension ref="A1:XFD1048576"/>')
    path = rewrite_zip(good, tmp_path / "huge.xlsx", replace={"xl/worksheets/sheet1.xml": sheet})
    dims = sheet_dimensions(path)
    assert dims == {"xl/worksheets/sheet1.xml": "A1:XFD1048576"}
    rows, cols = ref_shape(dims["xl/worksheets/sheet1.xml"])
    assert (rows, cols) == (1_048_576, 16_384)


def test_dimension_after_sheet_data_is_ignored(tmp_path: Path, good: Path) -> None:
    sheet = b'<worksheet><sheetData><row r="1"/></sheetData><dimension ref="A1:B2"/></worksheet>'
    path = rewrite_zip(good, tmp_path / "late.xlsx", replace={"xl/worksheets/sheet1.xml": sheet})
    assert sheet_dimensions(path) == {}


def test_sheet_dimensions_of_a_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(InputFileError, match="damaged or incomplete"):
        sheet_dimensions(path)


@pytest.mark.parametrize(
    ("ref", "shape"),
    [("A1", (1, 1)), ("A1:C3", (3, 3)), ("$B$2:$D$10", (9, 3)), ("XFD1048576", (1, 1)), ("AA1:A1", (1, 27))],
)
def test_ref_shape(ref: str, shape: tuple[int, int]) -> None:
    assert ref_shape(ref) == shape


@pytest.mark.parametrize("ref", ["", "A", "1", "A1:B2:C3", "AAAA1", "A1:"])
def test_ref_shape_refuses(ref: str) -> None:
    with pytest.raises(ValueError):
        ref_shape(ref)


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Limits(max_members=0)
    with pytest.raises(ValueError):
        Limits(max_compression_ratio=-1)
