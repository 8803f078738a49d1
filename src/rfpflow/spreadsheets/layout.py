"""The layout of the bid-response workbook, shared by its writer and its reader.

Sheet names are stable English identifiers in every language (``Company``,
``Pricing``, ...): problems are reported as ``Pricing!E14`` whatever the RFP's
language, and formulas and tools never meet sheet names in Chinese. What a
person reads -- titles, column headers, field labels, instructions -- is in the
RFP's language: English for ``language = "en"``, Chinese followed by English
(``单价 / Unit price``) for ``language = "zh"``, because bilingual headers
help the many Chinese bid teams that work with foreign partners.

The reader finds everything by its text, never by coordinates: a sheet by its
name (or a Chinese alias such as ``报价``), a table by the row holding its
headers, a column by its header, a company field by its label. It accepts the
English, the Chinese and the bilingual forms whatever the RFP's language, so a
vendor who translated the headers, moved columns or inserted rows is still
read. :func:`label_key` defines when two texts are "the same label".
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping

import attrs

__all__ = [
    "CERTIFICATIONS",
    "CERTIFICATIONS_TABLE",
    "COMPANY",
    "COMPANY_FIELDS",
    "COMPANY_TABLE",
    "FORMAT_VERSION",
    "INSTRUCTIONS",
    "METADATA",
    "PRICING",
    "PRICING_TABLE",
    "QUESTIONNAIRE",
    "QUESTIONNAIRE_TABLE",
    "SHEET_ALIASES",
    "TOTAL_LABELS",
    "Column",
    "FieldSpec",
    "TableSpec",
    "keys_of",
    "label_key",
    "label_keys",
    "text",
]

FORMAT_VERSION = 1
"""The version of the workbook layout, stored in the metadata sheet. A reader
refuses workbooks of a newer format than it knows."""

INSTRUCTIONS = "Instructions"
COMPANY = "Company"
CERTIFICATIONS = "Certifications"
QUESTIONNAIRE = "Questionnaire"
PRICING = "Pricing"
METADATA = "_rfpflow"

#: Other names a vendor may have given a sheet (compared with :func:`label_key`).
SHEET_ALIASES: Mapping[str, tuple[str, ...]] = {
    COMPANY: (COMPANY, "公司信息", "供应商信息", "基本信息", "Company information"),
    CERTIFICATIONS: (CERTIFICATIONS, "资质证书", "证书", "Certificates"),
    QUESTIONNAIRE: (QUESTIONNAIRE, "问卷", "技术响应", "Requirements"),
    PRICING: (PRICING, "报价", "报价表", "Prices", "Price schedule"),
    METADATA: (METADATA,),
}


def text(language: str, en: str, zh: str) -> str:
    """A label in the RFP's language: English, or Chinese followed by English."""
    return f"{zh} / {en}" if language == "zh" else en


_PARENTHESES = re.compile(r"\([^()]*\)|（[^（）]*）|\[[^\[\]]*\]")
_SPACES = re.compile(r"\s+")


def label_key(value: object) -> str:
    """The comparable form of a label: width-folded (NFKC), case-folded, without
    unit hints in parentheses, required-markers (``*``), a trailing colon and
    spaces. ``" Unit price (CNY)* "`` and ``"unit price"`` are the same label."""
    if not isinstance(value, str):
        return ""
    return _label_key(value)


@functools.lru_cache(maxsize=8192)
def _label_key(value: str) -> str:
    s = unicodedata.normalize("NFKC", value).casefold()
    s = _PARENTHESES.sub(" ", s)
    s = s.replace("*", " ").replace("\u200b", "")
    s = _SPACES.sub(" ", s).strip().rstrip(":").strip()
    return s


def label_keys(value: object) -> tuple[str, ...]:
    """Every label a cell's text may stand for: the whole text and, for a
    bilingual header such as ``单价 / Unit price``, each language's part."""
    if not isinstance(value, str) or len(value) > 1000:
        return ()
    return _label_keys(value)


@functools.lru_cache(maxsize=8192)
def _label_keys(value: str) -> tuple[str, ...]:
    whole = _label_key(value)
    if not whole:
        return ()
    parts = [_label_key(p) for p in re.split(r"[/\n|]", unicodedata.normalize("NFKC", value))]
    return (whole, *(p for p in parts if p and p != whole))


@attrs.frozen
class Column:
    """A table column: its key, its header in both languages, other headers a
    vendor may have used, and whether the table is unusable without it."""

    key: str
    en: str
    zh: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    width: float = 14

    def header(self, language: str) -> str:
        return text(language, self.en, self.zh)

    @property
    def labels(self) -> frozenset[str]:
        """Every :func:`label_key` this column's header may have."""
        return frozenset(label_key(t) for t in (self.key, self.en, self.zh, *self.aliases)) - {""}

    def keys(self) -> frozenset[str]:
        """The same as :attr:`labels` (kept for callers of the first version)."""
        return self.labels


@attrs.frozen
class TableSpec:
    """A sheet holding one table: its columns in the order they are written."""

    sheet: str
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def index(self, key: str) -> int:
        """The 1-based position of a column in the generated workbook."""
        return next(i for i, c in enumerate(self.columns, start=1) if c.key == key)


@attrs.frozen
class FieldSpec:
    """A company fact asked in the Company sheet (one row per field)."""

    key: str
    en: str
    zh: str
    kind: str  # text, code, integer, year, amount, email
    required: bool = False
    note_en: str = ""
    note_zh: str = ""
    aliases: tuple[str, ...] = ()

    def label(self, language: str) -> str:
        return text(language, self.en, self.zh) + (" *" if self.required else "")

    def note(self, language: str) -> str:
        if language == "zh":
            return f"{self.note_zh} / {self.note_en}" if self.note_zh else self.note_en
        return self.note_en

    @property
    def labels(self) -> frozenset[str]:
        """Every :func:`label_key` this field's label may have."""
        return frozenset(label_key(t) for t in (self.key, self.en, self.zh, *self.aliases)) - {""}

    def keys(self) -> frozenset[str]:
        """The same as :attr:`labels` (kept for callers of the first version)."""
        return self.labels


COMPANY_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("vendor_name", "Vendor name", "供应商名称", "text", required=True,
              note_en="Full registered name of the company", note_zh="营业执照上的完整名称",
              aliases=("company name", "supplier name", "name", "公司名称", "投标人名称", "单位名称")),
    FieldSpec("registration_no", "Registration number", "统一社会信用代码", "code",
              note_en="Companies registered in China: the 18-character unified social credit code",
              note_zh="18 位统一社会信用代码",
              aliases=("company registration number", "registration no", "unified social credit code", "uscc",
                       "注册号", "营业执照号", "统一社会信用代码/注册号")),
    FieldSpec("country", "Country", "国家/地区", "text", note_en="Country of registration", note_zh="注册地",
              aliases=("country of registration", "国家", "地区", "注册国家")),
    FieldSpec("year_established", "Year established", "成立年份", "year", note_en="e.g. 2012", note_zh="例如 2012",
              aliases=("founded", "year founded", "成立时间", "成立年度")),
    FieldSpec("registered_capital", "Registered capital", "注册资本", "amount",
              note_en="Amount in the RFP currency", note_zh="以本次采购币种填写",
              aliases=("share capital",)),
    FieldSpec("annual_turnover", "Annual turnover", "年营业额", "amount",
              note_en="Last financial year, in the RFP currency", note_zh="上一财年，以本次采购币种填写",
              aliases=("turnover", "annual revenue", "revenue", "营业收入", "年营业收入", "上年营业额")),
    FieldSpec("headcount", "Headcount", "员工人数", "integer", note_en="Employees", note_zh="在职员工数",
              aliases=("employees", "number of employees", "staff", "人数", "员工数")),
    FieldSpec("contact_name", "Contact name", "联系人", "text", aliases=("contact person", "contact", "联系人姓名")),
    FieldSpec("contact_email", "Contact e-mail", "联系邮箱", "email",
              aliases=("contact email", "email", "e-mail", "电子邮箱", "邮箱", "电子邮件")),
    FieldSpec("contact_phone", "Contact phone", "联系电话", "text",
              aliases=("phone", "telephone", "tel", "电话", "手机", "联系方式")),
)

COMPANY_TABLE = TableSpec(COMPANY, (
    Column("field", "Field", "项目", ("item", "label", "字段"), required=True, width=34),
    Column("value", "Your entry", "填写内容", ("value", "answer", "entry", "内容", "填写"), required=True, width=44),
    Column("note", "Notes", "填写说明", ("guidance", "说明", "备注"), width=60),
))

CERTIFICATIONS_TABLE = TableSpec(CERTIFICATIONS, (
    Column("name", "Certificate", "证书名称", ("certification", "name", "certificate name", "证书"), required=True,
           width=36),
    Column("number", "Certificate number", "证书编号", ("number", "certificate no", "编号"), width=24),
    Column("expires", "Expiry date", "有效期至", ("expiry", "expires", "valid until", "expiration date", "到期日",
                                                   "有效期"), width=18),
))

QUESTIONNAIRE_TABLE = TableSpec(QUESTIONNAIRE, (
    Column("id", "Requirement ID", "编号", ("id", "req id", "requirement no", "question id", "序号"), required=True,
           width=12),
    Column("text", "Requirement", "要求", ("question", "description", "requirement text", "内容"), width=60),
    Column("mandatory", "Mandatory", "是否必须", ("required", "must", "必须", "实质性要求"), width=12),
    Column("answer", "Answer", "响应", ("response", "reply", "答复", "回答", "应答"), required=True, width=14),
    Column("comment", "Comment", "说明", ("comments", "remark", "remarks", "备注", "补充说明"), width=40),
    Column("evidence", "Evidence reference", "证明材料索引", ("evidence", "reference", "evidence ref",
                                                               "证明材料", "佐证材料"), width=24),
))

PRICING_TABLE = TableSpec(PRICING, (
    Column("item_id", "Item ID", "编号", ("item", "id", "line item", "item no", "序号", "项目编号"), required=True,
           width=12),
    Column("description", "Description", "描述", ("name", "item description", "名称", "服务内容", "项目名称"),
           width=50),
    Column("unit", "Unit", "单位", width=10),
    Column("quantity", "Quantity", "数量", ("qty",), width=12),
    Column("unit_price", "Unit price", "单价", ("price", "rate", "unit rate", "报价单价", "含税单价"), required=True,
           width=18),
    Column("line_total", "Line total", "小计", ("total", "amount", "金额", "合价", "总价"), width=20),
    Column("comment", "Comment", "备注", ("comments", "remark", "remarks", "说明"), width=36),
))

#: Texts marking the grand-total row of the pricing table (in its item column).
TOTAL_LABELS: frozenset[str] = frozenset(
    label_key(t) for t in ("Total", "Grand total", "合计", "总计", "总价", "合计 / Total", "Total price")
)


def keys_of(texts: Iterable[str]) -> frozenset[str]:
    return frozenset(label_key(t) for t in texts) - {""}


#: The bid readers ``[plugins.xlsx_bids] reader`` may name (:mod:`rfpflow.spreadsheets.bid_reader`);
#: here so that validating rfp.toml does not load the readers.
READERS = ("fast", "openpyxl")
