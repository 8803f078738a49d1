"""File-level checks of a workbook before any spreadsheet parser sees it.

Vendors return the bid workbook edited and saved by Excel, WPS or
LibreOffice -- or not: a CSV export renamed ``.xlsx``, an Excel "web page"
saved as ``.xls``, a 1997-format ``.xls``, an OpenDocument ``.ods``, a
password-protected workbook, a file cut short by an e-mail gateway, or a
hostile file built to exhaust memory. Handed to openpyxl or calamine, each of
these fails with a message such as ``BadZipFile: File is not a zip file`` or
``KeyError: "There is no item named 'xl/workbook.xml'"``, which tells a
procurement officer nothing. :func:`check_workbook_file` looks at the bytes
first and says what the file *is* and what to do about it.

Detection is by content, never by the file name: the extension is what the
vendor typed, the content is what the program wrote.

* Not a ZIP: the file is sniffed -- empty, OLE2 compound file (legacy ``.xls``,
  or an encrypted OOXML workbook, recognised by the UTF-16LE stream names
  ``EncryptionInfo``/``EncryptedPackage``: Office wraps an encrypted ``.xlsx``
  in an OLE2 container), HTML or MHTML web page, Excel 2003 XML, CSV/TSV or
  other text, PDF, images and other archives.
* A ZIP that is not a workbook: OpenDocument (``mimetype`` member), Excel
  binary ``.xlsb``, Word or PowerPoint files, plain ZIP archives.
* Damaged: a ZIP whose central directory or member data is cut short or
  corrupt. Every member is decompressed once (and discarded), so a CRC error
  is found here rather than halfway through parsing -- except, when the
  caller asks (``defer_large``), parts of 4 MB and more: the fast bid reader
  unpacks those anyway, bounded, and checks them as it goes;
  :func:`verify_members` then checks the ones it did not read to the end, so
  a large sheet is not unpacked twice. The outcome is the same either way
  (tested).

**Zip bombs.** Limits (:class:`Limits`) are checked against the sizes the ZIP
directory declares *before* anything is decompressed: total and per-member
uncompressed size, the compression ratio of large members (real worksheets
compress 5-30:1, a bomb 1000:1), the number of members and of worksheets.
Declared sizes can lie, so every read goes through :func:`bounded_read`,
which stops as soon as more bytes come out than allowed. (Python's
``zipfile`` additionally stops at the declared size and then fails the CRC
check, so a member that is larger than declared is reported as damaged.)

**XML entity attacks** ("billion laughs", external entities). Spreadsheet
programs never write a document type declaration, so the prolog of every XML
part is scanned and a ``<!DOCTYPE``/``<!ENTITY`` there is refused outright,
whichever parser comes next. As a second line of defence
:func:`check_xml_safety` confirms that defusedxml is installed and that
openpyxl uses it.

**Huge used ranges.** A worksheet's ``<dimension ref="A1:XFD1048576"/>`` can
claim 17 billion cells; readers that pre-allocate from it (or loop over it)
can be stopped early: :func:`sheet_dimensions` reads only the start of each
sheet, and :func:`ref_shape` turns a ref into rows and columns.

**Macro-enabled workbooks** (``.xlsm``: a ``vbaProject.bin`` member, Excel 4
macro sheets, or a ``macroEnabled`` content type) are *not* refused: vendors
often start from a company template that happens to carry macros, and rfpflow
never runs them -- it reads only cell values, and the parsers it uses cannot
execute VBA. The file is accepted with the warning "macro-enabled workbook:
macros are ignored, only cell values are read", so the officer knows the
values of macro-computed cells are those last saved.
"""

from __future__ import annotations

import importlib
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal
from xml.etree.ElementTree import ParseError

import attrs
import defusedxml
from defusedxml import ElementTree as SafeET

from rfpflow.errors import InputFileError, Problem, RfpflowError

__all__ = [
    "MACRO_WARNING",
    "Limits",
    "WorkbookFileInfo",
    "bounded_read",
    "check_workbook_file",
    "check_xml_safety",
    "ref_shape",
    "sheet_dimensions",
]

MB = 1024 * 1024

MACRO_WARNING = "macro-enabled workbook: macros are ignored, only cell values are read"
EXTERNAL_LINKS_WARNING = (
    "workbook links to other workbooks: linked cells hold the values last saved, they are not refreshed"
)

_SAVE_AS_XLSX = 'open it in Excel, WPS or LibreOffice and save it as "Excel Workbook (*.xlsx)"'
_SEND_AGAIN = "the upload, download or copy probably failed; ask the vendor to send the file again"


_positive = attrs.validators.gt(0)


@attrs.frozen
class Limits:
    """Size limits a workbook must respect before it is opened.

    Sizes are bytes (``MB`` is 1024 * 1024). The defaults are far above any
    real bid workbook; tests and cautious deployments use smaller ones.
    """

    max_total_uncompressed: int = attrs.field(default=200 * MB, validator=_positive)
    """Sum of the declared uncompressed sizes of all members."""
    max_member_uncompressed: int = attrs.field(default=100 * MB, validator=_positive)
    """Declared (and actual) uncompressed size of any one member."""
    max_compression_ratio: float = attrs.field(default=200.0, validator=attrs.validators.gt(0.0))
    """Uncompressed : compressed size of one member, checked for large members."""
    ratio_min_size: int = attrs.field(default=1 * MB, validator=_positive)
    """Members up to this uncompressed size are exempt from the ratio check
    (small XML parts of repeated markup legitimately compress very well)."""
    max_members: int = attrs.field(default=2000, validator=_positive)
    """Number of members (files) in the ZIP container."""
    max_sheets: int = attrs.field(default=200, validator=_positive)
    """Number of worksheets."""
    max_file_size: int = attrs.field(default=200 * MB, validator=_positive)
    """Size of the file itself."""
    prolog_bytes: int = attrs.field(default=64 * 1024, validator=_positive)
    """How much of each XML part is read to find its root element (a longer
    prolog is refused) and of each worksheet to find its dimension."""
    verify_while_reading_min: int = attrs.field(default=4 * MB, validator=attrs.validators.ge(0))
    """With ``defer_large``, members declared at least this large are not
    unpacked by the checks -- only their prolog is read: the reader that
    unpacks them anyway checks their size and CRC as it goes, and
    :func:`verify_members` the ones it did not read to the end. (Smaller
    members are unpacked here: reading a prolog unpacks most of them anyway.)"""


@attrs.frozen
class WorkbookFileInfo:
    """What :func:`check_workbook_file` found out about an accepted workbook."""

    path: Path
    kind: Literal["xlsx", "xlsm"]
    """``"xlsm"`` for a macro-enabled workbook (see :data:`MACRO_WARNING`)."""
    member_names: tuple[str, ...]
    """Names of the parts in the ZIP container, in directory order."""
    sheet_count: int
    """Number of sheets listed in the workbook (worksheets and chart sheets)."""
    total_uncompressed: int
    """Sum of the uncompressed sizes of all parts, in bytes."""
    warnings: tuple[str, ...] = ()
    """Things the officer should know; the file is accepted nevertheless."""
    date1904: bool = False
    """The workbook uses the 1904 date system (Excel serial 0 = 1904-01-01)."""
    unverified: tuple[str, ...] = ()
    """Members not yet unpacked to the end (see ``defer_large``): their actual
    size and CRC are still to be checked."""


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


def _refuse(path: Path | str, message: str, place: str | None = None) -> InputFileError:
    """An error for ``path`` whose problem says what the file is and what to do."""
    name = str(path)
    return InputFileError(f"{name} cannot be imported", [Problem(message, file=name, place=place)])


def _size(n: float) -> str:
    if n >= MB:
        return f"{n / MB:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} KB"
    return f"{int(n)} bytes"


# ---------------------------------------------------------------------------
# Not a ZIP: what is it?
# ---------------------------------------------------------------------------

_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_BINARY_KINDS: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF", "a PDF document, not an Excel workbook", "ask the vendor for the .xlsx workbook itself"),
    (b"{\\rtf", "a Rich Text (RTF) document, not an Excel workbook", "ask the vendor for the .xlsx workbook"),
    (b"\x89PNG", "a PNG image, not an Excel workbook", "ask the vendor for the .xlsx workbook"),
    (b"\xff\xd8\xff", "a JPEG image, not an Excel workbook", "ask the vendor for the .xlsx workbook"),
    (b"GIF8", "a GIF image, not an Excel workbook", "ask the vendor for the .xlsx workbook"),
    (b"Rar!", "a RAR archive, not an Excel workbook", "extract the workbook from it and import that"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive, not an Excel workbook", "extract the workbook from it and import that"),
    (b"\x1f\x8b", "a gzip-compressed file, not an Excel workbook", "extract the workbook from it and import that"),
)


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-le")


def _scan_for(path: Path, needles: tuple[bytes, ...], chunk_size: int = 1 * MB) -> set[bytes]:
    """Which of ``needles`` occur in the file, reading it in chunks."""
    found: set[bytes] = set()
    overlap = max(len(n) for n in needles) - 1
    tail = b""
    with path.open("rb") as fh:
        while len(found) < len(needles):
            chunk = fh.read(chunk_size)
            if not chunk:
                break
            window = tail + chunk
            found.update(n for n in needles if n in window)
            tail = window[-overlap:]
    return found


def _classify_ole2(path: Path) -> InputFileError:
    encryption_info = _utf16("EncryptionInfo")
    encrypted_package = _utf16("EncryptedPackage")
    word = _utf16("WordDocument")
    powerpoint = _utf16("PowerPoint Document")
    found = _scan_for(path, (encryption_info, encrypted_package, word, powerpoint))
    if encryption_info in found or encrypted_package in found:
        return _refuse(
            path,
            "is a password-protected (encrypted) Excel workbook, so its contents cannot be read; ask the vendor "
            "to remove the password (in Excel: File > Info > Protect Workbook > Encrypt with Password, clear the "
            "password) and send the workbook again",
        )
    if word in found:
        return _refuse(path, "is an old-format Word document (.doc), not an Excel workbook; ask for the workbook")
    if powerpoint in found:
        return _refuse(path, "is an old-format PowerPoint file (.ppt), not an Excel workbook; ask for the workbook")
    return _refuse(
        path,
        f"is an old-format Excel 97-2003 workbook (.xls), which rfpflow does not read; {_SAVE_AS_XLSX}",
    )


def _decode_text(head: bytes) -> str | None:
    """The head as text, or ``None`` when it does not look like text."""
    for bom, encoding in (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if head.startswith(bom):
            return head[len(bom) :].decode(encoding, errors="replace")
    if b"\x00" in head:
        return None
    text: str | None = None
    for encoding in ("utf-8", "gb18030"):
        try:
            # A multi-byte character may be cut at the end of the head.
            text = head[:-4].decode(encoding) if len(head) > 4 else head.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        text = head.decode("latin-1")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n\f")
    if controls > max(2, len(text) // 100):
        return None
    return text


def _classify_text(path: Path, text: str, complete: bool) -> InputFileError | None:
    suffix = path.suffix or "a workbook name"
    lower = text.lstrip().lower()
    head = lower[:4096]
    if lower.startswith("mime-version:") or ("multipart/related" in head and "mime-version" in head):
        return _refuse(
            path,
            f'is a "single file web page" (MHTML) renamed {suffix}, not a real Excel workbook; {_SAVE_AS_XLSX}',
        )
    if lower.startswith("<?xml") and "urn:schemas-microsoft-com:office:spreadsheet" in head:
        return _refuse(path, f"is an Excel 2003 XML spreadsheet, not an .xlsx workbook; {_SAVE_AS_XLSX}")
    if (
        lower.startswith(("<!doctype html", "<html", "<head", "<body", "<table", "<meta", "<style"))
        or "<html" in head
        or "urn:schemas-microsoft-com:office:excel" in head
    ):
        return _refuse(
            path,
            f"is a web page (HTML) renamed {suffix}, not a real Excel workbook -- Excel opens such files but "
            f"they are not workbooks; {_SAVE_AS_XLSX}",
        )
    if lower.startswith("<?xml") or lower.startswith("<"):
        return _refuse(path, f"is an XML or markup text file, not an Excel workbook; {_SAVE_AS_XLSX}")
    lines = [line for line in text.splitlines() if line.strip()]
    if not complete and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    lines = lines[:50]
    if lines:
        for delimiter, what in (
            ("\t", "a tab-separated (TSV) text file"),
            (",", "a CSV (comma-separated values) text file"),
            (";", "a CSV (semicolon-separated values) text file"),
        ):
            with_delimiter = sum(1 for line in lines if delimiter in line)
            if with_delimiter and with_delimiter >= max(1, len(lines) * 0.8):
                return _refuse(path, f"is {what} renamed {suffix}, not an Excel workbook; {_SAVE_AS_XLSX}")
    return _refuse(path, "is a plain text file, not an Excel workbook; ask the vendor for the .xlsx workbook")


def _classify_non_zip(path: Path, head: bytes, complete: bool) -> InputFileError | None:
    """An error saying what the file is, or ``None`` when it may be a ZIP after all."""
    if head.startswith(_OLE2_MAGIC):
        return _classify_ole2(path)
    for magic, what, todo in _BINARY_KINDS:
        if head.startswith(magic):
            return _refuse(path, f"is {what}; {todo}")
    text = _decode_text(head)
    if text is not None:
        return _classify_text(path, text, complete)
    return None


def _unknown_binary(path: Path, head: bytes) -> InputFileError:
    return _refuse(
        path,
        f"is not an Excel workbook: its content is neither an .xlsx (ZIP) file nor any other known format "
        f"(it starts with bytes {head[:8].hex(' ')}); the file may be damaged -- ask the vendor to send the "
        "workbook again",
    )


# ---------------------------------------------------------------------------
# ZIP container
# ---------------------------------------------------------------------------


def _central_directory(path: Path, size: int) -> tuple[int, int] | None:
    """(entry count, central directory size) from the end-of-central-directory
    record, read without letting ``zipfile`` parse the directory; ``None``
    when there is no such record (``zipfile`` will say the ZIP is damaged)."""
    with path.open("rb") as fh:
        start = max(0, size - (22 + 65535))
        fh.seek(start)
        tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    entries, cd_size = struct.unpack("<HI", tail[at + 10 : at + 16])
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF:
        locator = tail.rfind(b"PK\x06\x07", 0, at)
        zip64 = tail.rfind(b"PK\x06\x06", 0, locator if locator >= 0 else at)
        if zip64 >= 0 and len(tail) - zip64 >= 56:
            entries, cd_size = struct.unpack("<QQ", tail[zip64 + 32 : zip64 + 48])
    return int(entries), int(cd_size)


@contextmanager
def _open_zip(path: Path) -> Iterator[zipfile.ZipFile]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, struct.error, OSError):
        raise _refuse(
            path, f"is a damaged or incomplete Excel file (its ZIP container is cut short or corrupt); {_SEND_AGAIN}"
        ) from None
    with zf:
        yield zf


def _zip_label(zf: zipfile.ZipFile) -> str:
    return str(zf.filename) if zf.filename else "the workbook"


def bounded_read(zf: zipfile.ZipFile, name: str | zipfile.ZipInfo, limit: int) -> bytes:
    """Decompress one member, refusing it as soon as more than ``limit`` bytes
    come out -- whatever size the ZIP directory declares.

    Raises :class:`InputFileError` when the member is too large, damaged
    (CRC error, truncated data), encrypted or missing.
    """
    member = name.filename if isinstance(name, zipfile.ZipInfo) else name
    parts: list[bytes] = []
    total = 0
    for chunk in _stream(zf, name):
        total += len(chunk)
        if total > limit:
            raise _refuse(
                _zip_label(zf),
                f"has a part that unpacks to more than {_size(limit)} ({member}); refused as a possible ZIP bomb. "
                "If the workbook is genuine, ask the vendor to remove unused rows, sheets and pictures",
                place=member,
            )
        parts.append(chunk)
    return b"".join(parts)


def _stream(zf: zipfile.ZipFile, name: str | zipfile.ZipInfo, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
    member = name.filename if isinstance(name, zipfile.ZipInfo) else name
    label = _zip_label(zf)
    try:
        with zf.open(name) as fh:
            while chunk := fh.read(chunk_size):
                yield chunk
    except KeyError:
        raise _refuse(label, f"has no part named {member}; the workbook is incomplete", place=member) from None
    except RuntimeError:  # encrypted member
        raise _refuse(
            label,
            "is a password-protected ZIP file, not an Excel workbook; ask the vendor for the workbook without a "
            "password",
            place=member,
        ) from None
    except NotImplementedError:
        raise _refuse(
            label,
            f"uses a compression method spreadsheet programs do not use (part {member}); {_SAVE_AS_XLSX}",
            place=member,
        ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError):
        raise _refuse(
            label,
            f"is a damaged Excel file: part {member} is corrupt or cut short; {_SEND_AGAIN}",
            place=member,
        ) from None


def _check_sizes(path: Path, infos: list[zipfile.ZipInfo], limits: Limits) -> int:
    if len(infos) > limits.max_members:
        raise _refuse(
            path,
            f"contains {len(infos)} parts, more than the limit of {limits.max_members}; refused as a possible "
            "ZIP bomb. If the workbook is genuine, ask the vendor to remove unused sheets and pictures",
        )
    seen: set[str] = set()
    total = 0
    for info in infos:
        if info.filename in seen:
            raise _refuse(
                path,
                f"contains the part {info.filename} twice, which spreadsheet programs never write; refused because "
                "different programs would read different contents. Ask the vendor to save the workbook again",
                place=info.filename,
            )
        seen.add(info.filename)
        if info.flag_bits & 0x1:
            raise _refuse(
                path,
                "is a password-protected ZIP file, not an Excel workbook; ask the vendor for the workbook without "
                "a password",
                place=info.filename,
            )
        if info.file_size > limits.max_member_uncompressed:
            raise _refuse(
                path,
                f"has a part ({info.filename}) that would unpack to {_size(info.file_size)}, more than the limit of "
                f"{_size(limits.max_member_uncompressed)}; refused as a possible ZIP bomb. If the workbook is "
                "genuine, ask the vendor to remove unused rows, sheets and pictures",
                place=info.filename,
            )
        if info.file_size > limits.ratio_min_size:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_compression_ratio:
                raise _refuse(
                    path,
                    f"has a part ({info.filename}) that would unpack from {_size(info.compress_size)} to "
                    f"{_size(info.file_size)} (ratio {ratio:.0f}:1, limit {limits.max_compression_ratio:.0f}:1); "
                    "refused as a possible ZIP bomb",
                    place=info.filename,
                )
        total += info.file_size
        if total > limits.max_total_uncompressed:
            raise _refuse(
                path,
                f"would unpack to more than {_size(limits.max_total_uncompressed)}, the limit for a workbook; "
                "refused as a possible ZIP bomb. If the workbook is genuine, ask the vendor to remove unused rows, "
                "sheets and pictures",
            )
    return total


def _read_small(zf: zipfile.ZipFile, name: str, limit: int) -> bytes | None:
    return bounded_read(zf, name, limit) if name in zf.NameToInfo else None


_REL_OFFICE_DOCUMENT = re.compile(
    rb"<Relationship\b[^>]*?Type\s*=\s*[\"'][^\"']*/officeDocument[\"'][^>]*>", re.IGNORECASE
)
_TARGET = re.compile(rb"\bTarget\s*=\s*[\"']([^\"']+)[\"']")


def _workbook_part(zf: zipfile.ZipFile, limits: Limits) -> str:
    """The main part named by the package relationships (``xl/workbook.xml``
    in every workbook Excel, WPS or LibreOffice writes)."""
    rels = _read_small(zf, "_rels/.rels", limits.max_member_uncompressed)
    if rels:
        m = _REL_OFFICE_DOCUMENT.search(rels)
        target = _TARGET.search(m.group(0)) if m else None
        if target:
            name = target.group(1).decode("utf-8", errors="replace").lstrip("/")
            if name in zf.NameToInfo:
                return name
    return "xl/workbook.xml"


def _classify_zip(path: Path, zf: zipfile.ZipFile, names: list[str], limits: Limits) -> str:
    """Return the workbook part name, or refuse a ZIP that is not a workbook."""
    mimetype = _read_small(zf, "mimetype", 1024)
    if mimetype is not None:
        kind = mimetype.strip().decode("ascii", errors="replace")
        if kind == "application/vnd.oasis.opendocument.spreadsheet":
            raise _refuse(
                path,
                "is an OpenDocument spreadsheet (.ods, as saved by LibreOffice or WPS), not an Excel workbook; "
                'open it in LibreOffice or WPS and save it as "Excel 2007-365 (.xlsx)"',
            )
        if kind.startswith("application/vnd.oasis.opendocument."):
            raise _refuse(path, f"is an OpenDocument file ({kind}), not an Excel workbook; ask for the workbook")
    if "xl/workbook.bin" in zf.NameToInfo:
        raise _refuse(path, f"is an Excel Binary Workbook (.xlsb), which rfpflow does not read; {_SAVE_AS_XLSX}")
    part = _workbook_part(zf, limits)
    if part in zf.NameToInfo:
        return part
    if "word/document.xml" in zf.NameToInfo:
        raise _refuse(path, "is a Word document (.docx), not an Excel workbook; ask the vendor for the workbook")
    if "ppt/presentation.xml" in zf.NameToInfo:
        raise _refuse(path, "is a PowerPoint presentation (.pptx), not an Excel workbook; ask for the workbook")
    inner = [n for n in names if n.lower().endswith((".xlsx", ".xlsm", ".xls", ".ods", ".csv"))]
    if inner:
        listed = ", ".join(inner[:3]) + (", ..." if len(inner) > 3 else "")
        raise _refuse(
            path,
            f"is a ZIP archive containing {listed}, not an Excel workbook itself; extract the workbook and import that",
        )
    if "[Content_Types].xml" in zf.NameToInfo:
        raise _refuse(
            path,
            f"is an Office file without a workbook part (xl/workbook.xml), not an Excel workbook; {_SAVE_AS_XLSX}",
        )
    raise _refuse(path, "is a ZIP archive, not an Excel workbook; ask the vendor for the .xlsx workbook")


def _prolog_problem(head: bytes, complete: bool, limit: int) -> str | None:
    """What is wrong with the prolog of an XML part, or ``None``."""
    if head.startswith((b"\xff\xfe", b"<\x00")):
        text = head.decode("utf-16-le", errors="replace")
    elif head.startswith((b"\xfe\xff", b"\x00<")):
        text = head.decode("utf-16-be", errors="replace")
    else:
        text = head.decode("utf-8", errors="replace")
    at = 0
    while True:
        at = text.find("<", at)
        if at < 0:
            break
        if text.startswith("<?", at):
            end = text.find("?>", at + 2)
            if end < 0:
                break
            at = end + 2
        elif text.startswith("<!--", at):
            end = text.find("-->", at + 4)
            if end < 0:
                break
            at = end + 3
        elif text.startswith("<!", at):
            return (
                "contains an XML document type declaration, which spreadsheet programs never write; refused as a "
                "possible XML entity attack"
            )
        else:
            return None  # the root element starts here
    if complete:
        return None  # no root element at all: the parser will say the part is damaged
    if len(head) >= limit:
        return f"has an XML part whose preamble is longer than {_size(limit)}, which spreadsheet programs never write"
    return None


def _is_xml_part(name: str) -> bool:
    return name.lower().endswith((".xml", ".rels", ".vml"))


def _is_worksheet(name: str) -> bool:
    return name.startswith("xl/worksheets/") and name.lower().endswith(".xml") and "/_rels/" not in name


def _verify_members(path: Path, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: Limits, *,
                    prolog_only: bool = False) -> None:
    """Decompress every member once, keeping nothing: actual sizes against the
    limits, the prolog of every XML part, and the CRC (checked by ``zipfile``
    at the end of each member). With ``prolog_only``, only as much as the
    prolog check needs."""
    actual_total = 0
    for info in infos:
        xml = _is_xml_part(info.filename)
        if prolog_only and not xml:
            continue
        head = bytearray()
        size = 0
        for chunk in _stream(zf, info):
            if prolog_only and len(head) + len(chunk) >= limits.prolog_bytes:
                head += chunk[: limits.prolog_bytes - len(head)]
                size = info.file_size  # not read to the end; the size was checked as declared
                break
            size += len(chunk)
            actual_total += len(chunk)
            if size > limits.max_member_uncompressed or actual_total > limits.max_total_uncompressed:
                raise _refuse(
                    path,
                    f"has a part ({info.filename}) that unpacks to more than the limits allow; refused as a "
                    "possible ZIP bomb",
                    place=info.filename,
                )
            if xml and len(head) < limits.prolog_bytes:
                head += chunk[: limits.prolog_bytes - len(head)]
        if xml:
            problem = _prolog_problem(bytes(head), size == len(head), limits.prolog_bytes)
            if problem:
                raise _refuse(path, problem, place=info.filename)


_MAIN_NS = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _read_workbook_part(path: Path, zf: zipfile.ZipFile, part: str, limits: Limits) -> tuple[bool, int]:
    """(date1904, number of sheets) from the workbook part, parsed with defusedxml."""
    data = bounded_read(zf, part, limits.max_member_uncompressed)
    try:
        root = SafeET.fromstring(data)
    except (ParseError, defusedxml.DefusedXmlException, ValueError):
        raise _refuse(
            path, f"is a damaged Excel file: {part} is not well-formed XML; {_SEND_AGAIN}", place=part
        ) from None
    date1904 = False
    sheets = 0
    for element in root:
        name = _local(element.tag)
        if name == "workbookPr":
            date1904 = str(element.get("date1904", "false")).strip().lower() in ("1", "true")
        elif name == "sheets":
            sheets = sum(1 for sheet in element if _local(sheet.tag) == "sheet")
    return date1904, sheets


def check_workbook_file(path: Path, *, limits: Limits = Limits(), defer_large: bool = False) -> WorkbookFileInfo:
    """Check that ``path`` is a readable, safe .xlsx/.xlsm workbook.

    Raises :class:`InputFileError` naming the file, saying what it is
    (a CSV file, an old .xls, a damaged download, a possible ZIP bomb, ...)
    and what to do. See the module documentation for every check.

    With ``defer_large``, members declared at least
    ``limits.verify_while_reading_min`` bytes (4 MB) are checked (sizes
    declared, prolog) but not unpacked to the end:
    they are listed in ``unverified``, and the caller must pass those it did
    not read to the end itself to :func:`verify_members` before it trusts
    anything read -- and all of them before a parser that does not bound what
    it unpacks.
    """
    path = Path(path)
    if not path.exists():
        raise _refuse(path, "does not exist; check the file name and folder")
    if not path.is_file():
        raise _refuse(path, "is a folder or device, not a file")
    size = path.stat().st_size
    if size == 0:
        raise _refuse(path, f"is empty (0 bytes); {_SEND_AGAIN}")
    if size > limits.max_file_size:
        raise _refuse(
            path,
            f"is {_size(size)}, larger than the limit of {_size(limits.max_file_size)} for a workbook; ask the "
            "vendor to remove unused rows, sheets and pictures",
        )
    with path.open("rb") as fh:
        head = fh.read(8192)
    if not head.startswith(_ZIP_MAGICS):
        error = _classify_non_zip(path, head, complete=len(head) == size)
        if error is not None:
            raise error
        if not zipfile.is_zipfile(path):
            raise _unknown_binary(path, head)

    directory = _central_directory(path, size)
    if directory is not None:
        entries, cd_size = directory
        if entries > limits.max_members or cd_size > limits.max_members * 1024:
            raise _refuse(
                path,
                f"contains {entries} parts, more than the limit of {limits.max_members}; refused as a possible "
                "ZIP bomb",
            )

    with _open_zip(path) as zf:
        infos = zf.infolist()
        total = _check_sizes(path, infos, limits)
        names = [info.filename for info in infos]
        part = _classify_zip(path, zf, names, limits)
        worksheets = sum(1 for n in names if _is_worksheet(n))
        if worksheets > limits.max_sheets:
            raise _refuse(
                path,
                f"has {worksheets} worksheets, more than the limit of {limits.max_sheets}; ask the vendor to "
                "remove the sheets that are not part of the bid",
            )
        # Parts read here whole (the package relationships, the workbook part, the content types)
        # are verified by being read: zipfile checks the CRC at the end of each.
        read_here = {"_rels/.rels", part, "[Content_Types].xml"}
        later = [i for i in infos if defer_large and i.file_size >= limits.verify_while_reading_min
                 and i.filename not in read_here]
        _verify_members(path, zf, [i for i in infos if i not in later], limits)
        _verify_members(path, zf, later, limits, prolog_only=True)
        date1904, sheet_count = _read_workbook_part(path, zf, part, limits)
        if sheet_count > limits.max_sheets:
            raise _refuse(
                path,
                f"has {sheet_count} sheets, more than the limit of {limits.max_sheets}; ask the vendor to "
                "remove the sheets that are not part of the bid",
            )
        content_types = _read_small(zf, "[Content_Types].xml", limits.max_member_uncompressed) or b""

    macro = (
        any(n.lower().endswith("vbaproject.bin") or n.startswith("xl/macrosheets/") for n in names)
        or b"macroenabled" in content_types.lower()
    )
    warnings: list[str] = []
    if macro:
        warnings.append(MACRO_WARNING)
    if any(n.startswith("xl/externalLinks/") for n in names):
        warnings.append(EXTERNAL_LINKS_WARNING)
    return WorkbookFileInfo(
        path=path,
        kind="xlsm" if macro else "xlsx",
        member_names=tuple(names),
        sheet_count=sheet_count,
        total_uncompressed=total,
        warnings=tuple(warnings),
        date1904=date1904,
        unverified=tuple(i.filename for i in later),
    )


def verify_members(path: Path, names: Iterable[str], *, limits: Limits = Limits(),
                   zf: zipfile.ZipFile | None = None) -> None:
    """Unpack these members of an accepted workbook to the end, keeping
    nothing: actual sizes against the limits and the CRC (the rest of
    :func:`check_workbook_file`'s checks for members it left ``unverified``).
    ``zf``: the workbook already open."""
    wanted = set(names)
    if not wanted:
        return
    if zf is not None:
        _verify_members(path, zf, [i for i in zf.infolist() if i.filename in wanted], limits)
        return
    with _open_zip(path) as opened:
        _verify_members(path, opened, [i for i in opened.infolist() if i.filename in wanted], limits)


# ---------------------------------------------------------------------------
# XML parser safety and used ranges
# ---------------------------------------------------------------------------


def check_xml_safety() -> None:
    """Confirm that XML is parsed safely: defusedxml is importable and
    openpyxl (when installed) uses it (``openpyxl.xml.DEFUSEDXML``).

    openpyxl silently falls back to the standard library parser when
    defusedxml is missing or the environment variable ``OPENPYXL_DEFUSEDXML``
    is not ``True``. Raises :class:`RfpflowError` saying how to fix it.
    """
    try:
        importlib.import_module("defusedxml.ElementTree")
    except ImportError:  # pragma: no cover - defusedxml is a dependency
        raise RfpflowError(
            "the defusedxml package is not installed, so workbooks cannot be read safely; reinstall rfpflow"
        ) from None
    try:
        from openpyxl import xml as openpyxl_xml
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        return
    if not getattr(openpyxl_xml, "DEFUSEDXML", False):
        raise RfpflowError(
            "openpyxl is not using defusedxml to parse workbooks (is the environment variable OPENPYXL_DEFUSEDXML "
            "set to something other than True?); unset it so that workbooks are parsed safely"
        )


_DIMENSION = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?dimension\b[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']")
_SHEET_DATA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheetData\b")


def sheet_dimensions(path: Path, *, limits: Limits = Limits()) -> dict[str, str]:
    """The used range each worksheet declares: ``{"xl/worksheets/sheet1.xml":
    "A1:F40"}``.

    Reads at most ``limits.prolog_bytes`` of each sheet (the ``<dimension>``
    element comes before the cell data); sheets without one are left out.
    The declaration is written by the program that saved the file and may be
    wrong or hostile (``A1:XFD1048576``): use :func:`ref_shape` to refuse
    ranges too large for a reader before running it.
    """
    path = Path(path)
    result: dict[str, str] = {}
    with _open_zip(path) as zf:
        for info in zf.infolist():
            if not _is_worksheet(info.filename):
                continue
            head = b""
            for chunk in _stream(zf, info, chunk_size=16 * 1024):
                head += chunk
                if len(head) >= limits.prolog_bytes or _SHEET_DATA.search(head):
                    break
            head = head[: limits.prolog_bytes]
            data_at = _SHEET_DATA.search(head)
            if data_at:
                head = head[: data_at.start()]
            m = _DIMENSION.search(head)
            if m:
                result[info.filename] = m.group(1).decode("ascii", errors="replace").strip()
    return result


_CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")


def _column_number(letters: str) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + ord(ch) - ord("A") + 1
    return number


def ref_shape(ref: str) -> tuple[int, int]:
    """(rows, columns) of a range such as ``"A1:XFD1048576"`` or ``"B2"``.

    Raises ``ValueError`` for text that is not a cell range.
    """
    parts = ref.strip().split(":")
    if not 1 <= len(parts) <= 2:
        raise ValueError(f"{ref!r} is not a cell range")
    cells: list[tuple[int, int]] = []
    for part in parts:
        m = _CELL_REF.fullmatch(part)
        if not m:
            raise ValueError(f"{ref!r} is not a cell range")
        cells.append((int(m.group(2)), _column_number(m.group(1))))
    (row1, col1), (row2, col2) = cells[0], cells[-1]
    return abs(row2 - row1) + 1, abs(col2 - col1) + 1
