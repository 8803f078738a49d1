"""Documents rendered from a cycle view: content, safety, determinism, overrides."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfpflow import hookimpl
from rfpflow.documents import (
    RenderError,
    VendorDocumentSpec,
    audience_of,
    kpi_chart_svg,
    md_escape,
    prepare_view,
    reached_stage,
    render_documents,
    sanitize_filename,
    score_chart_svg,
    select_vendors,
    template_names,
)
from rfpflow.plugins import BUILTIN_PLUGINS, PluginHost
from rfpflow.registry import DocumentSpec
from tests.view_fixture import HOSTILE_NAMES, sample_view

# The documents plugin is listed here too, so these tests run before and after it is wired in.
DOC_BUILTINS = tuple(dict.fromkeys((*BUILTIN_PLUGINS, "rfpflow.builtins.documents")))

ALL_DOCS = {
    "rfp", "bid-instructions", "screening-report", "evaluation-report", "trial-report", "award-recommendation",
    "award-letter-Beta-BPO", "regret-letter-Acme-Services", "regret-letter-Gamma-Contact-Centre",
    "regret-letter-Delta-Staffing", "audit-appendix",
}
EVALUATED = ["Acme Services", "Beta BPO", "Gamma Contact Centre"]
PRICES = ["1080000", "1,080,000", "960000", "960,000", "1190000", "1,190,000", "700000", "700,000"]
SAFE_NAME = re.compile(r"^[\w\-]+\.(html|md)$")


def host(*plugins: object) -> PluginHost:
    named = [(getattr(p, "__name__", type(p).__name__), p) for p in plugins]
    return PluginHost.create(load_entrypoints=False, strict=True, extra_plugins=named, builtins=DOC_BUILTINS)


def render(tmp_path: Path, view: dict[str, Any] | None = None, *plugins: object, workspace: Path | None = None,
           out: str = "out", **kwargs: Any) -> dict[str, str]:
    paths = render_documents(view if view is not None else sample_view(), host(*plugins), workspace=workspace,
                             out_dir=tmp_path / out, **kwargs)
    return {p.name: p.read_text(encoding="utf-8") for p in paths}


class Nesting(HTMLParser):
    """Checks that every non-void element is closed in order; collects text and tag counts."""

    VOID = frozenset({"meta", "br", "hr", "img", "link", "col", "input", "area", "base", "wbr", "source"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: Counter[str] = Counter()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        for name, value in attrs:
            if name.startswith("on") or (value and "javascript:" in value.lower()):
                self.errors.append(f"active attribute {name}={value!r}")
            if name in ("src", "href") or (name == "xlink:href"):
                self.errors.append(f"external reference {name}={value!r}")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(text: str) -> Nesting:
    parser = Nesting()
    parser.feed(text)
    parser.close()
    assert not parser.errors, parser.errors[:5]
    assert not parser.stack, f"unclosed: {parser.stack}"
    assert parser.tags["script"] == 0
    return parser


# --------------------------------------------------------------------------
# Rendering the whole cycle
# --------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_document_renders_in_both_formats_and_is_well_formed_evidence(tmp_path: Path, lang: str) -> None:
    view = sample_view(lang)
    docs = render(tmp_path, view)
    assert set(docs) == {f"{d}.{fmt}" for d in ALL_DOCS for fmt in ("html", "md")}
    for name, text in docs.items():
        # every document is evidence: chain head, event count and as-of time in the footer
        assert view["chain_head"] in text, name
        assert "23" in text and view["as_of"] in text, name
        assert "\r" not in text
        if name.endswith(".html"):
            parsed = parse_html(text)
            assert parsed.tags["html"] == parsed.tags["body"] == parsed.tags["footer"] == 1
            assert "@page { size: A4; margin: 18mm; }" in text and "table-layout: fixed" in text
            assert "Noto Sans CJK SC" in text and "@import" not in text and "url(" not in text
            assert "<!DOCTYPE html>" in text
    for doc in ("evaluation-report", "trial-report"):
        assert "<svg" in docs[f"{doc}.html"]
    evaluation = docs["evaluation-report.html"]
    assert evaluation.count("<svg") == 2  # stacked bars and the per-dimension comparison
    text = "".join(parse_html(evaluation).text)
    for vendor in EVALUATED:
        assert vendor in text
        assert vendor in docs["evaluation-report.md"]
    assert "Delta Staffing" not in text  # screened out: not evaluated


def test_chinese_documents_carry_the_chinese_headings(tmp_path: Path) -> None:
    docs = render(tmp_path, sample_view("zh"))
    headings = {
        "rfp": "招标文件", "bid-instructions": "投标人须知", "screening-report": "资格审查报告",
        "evaluation-report": "评标报告", "trial-report": "试运行报告", "award-recommendation": "定标建议",
        "award-letter-Beta-BPO": "中标通知书", "regret-letter-Acme-Services": "未中标通知书",
        "audit-appendix": "审计附录",
    }
    for doc, heading in headings.items():
        assert f"<h1>{heading}</h1>" in docs[f"{doc}.html"], doc
        assert docs[f"{doc}.md"].startswith(f"# {heading}\n"), doc
        assert '<html lang="zh-CN">' in docs[f"{doc}.html"]
    assert "综合评分" in docs["evaluation-report.html"]
    assert "审计链头" in docs["rfp.html"]
    assert "2027年4月19日" in docs["regret-letter-Acme-Services.html"]


def test_english_documents_use_the_english_set(tmp_path: Path) -> None:
    docs = render(tmp_path, sample_view("en"))
    assert "<h1>Notice of Award</h1>" in docs["award-letter-Beta-BPO.html"]
    assert "中标通知书" not in docs["award-letter-Beta-BPO.html"]
    assert "CNY 960,000.00" in docs["award-letter-Beta-BPO.html"]
    assert "Notice of intention to award" in docs["award-letter-Beta-BPO.html"]  # not yet awarded


def test_letters_state_each_vendors_own_score_rank_and_the_winners_score(tmp_path: Path) -> None:
    docs = render(tmp_path, sample_view("en"))
    acme = docs["regret-letter-Acme-Services.md"]
    assert "ranked 2 of 2 with a final score of **85.9** points" in acme and "**88.3**" in acme
    gamma = docs["regret-letter-Gamma-Contact-Centre.md"]
    assert "ranked 3 of 3 with a score of **70.3** points" in gamma and "**80.5**" in gamma
    assert "not among those shortlisted for the trial run" in gamma
    delta = docs["regret-letter-Delta-Staffing.md"]
    assert "did not pass the qualification screening" in delta
    assert "Valid ISO 9001 certificate: none of ISO 9001 declared" in delta
    assert "score of" not in delta and "points" not in delta
    zh = render(tmp_path, sample_view("zh"), out="zh")
    assert "贵单位综合评分为 **85.9** 分" in zh["regret-letter-Acme-Services.md"]
    assert "未通过资格审查" in zh["regret-letter-Delta-Staffing.md"]


def test_the_evaluation_report_shows_scores_outliers_and_sensitivity_with_numbers(tmp_path: Path) -> None:
    md = render(tmp_path)["evaluation-report.md"]
    assert "| Acme Services | 8.0 | — | — | 8.00 | 21.0 |" in md  # E1's score, the consensus, the points
    assert "scored Beta BPO 2.0 on “Team and staffing”; the panel median was 7.0, a distance of 5.0" in md
    assert "No single weight change within ±50% changes the winner." in md  # 20.0 -> 31.4 is beyond +50 %
    view = sample_view()
    view["evaluation"]["sensitivity"][0]["new_weight"] = 28.0
    md = render(tmp_path, view, out="near")["evaluation-report.md"]
    assert ("* Team and staffing: if its weight moves from 20.0 to 28.0, Beta BPO would lead instead of "
            "Acme Services.") in md


def test_departing_from_the_ranking_prints_the_justification(tmp_path: Path) -> None:
    view = sample_view()
    view["award"].update(follows_ranking=False, justification="Acme's SLA penalties are unacceptable")
    docs = render(tmp_path, view)
    assert "departs from the ranking" in docs["award-recommendation.html"]
    assert "Acme&#39;s SLA penalties are unacceptable" in docs["award-recommendation.html"]


# --------------------------------------------------------------------------
# Hostile vendor text
# --------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_hostile_vendor_names_stay_inert_text_in_every_document_and_file_name(tmp_path: Path, lang: str) -> None:
    out = tmp_path / "out"
    paths = render_documents(sample_view(lang, hostile=True), host(), workspace=None, out_dir=out)
    assert len(paths) == 22
    for path in paths:
        assert path.parent == out.resolve()
        assert SAFE_NAME.match(path.name), path.name
        assert ".." not in path.name and "passwd" not in path.name.replace("etc-passwd", "")
    docs = {p.name: p.read_text(encoding="utf-8") for p in paths}
    for name, text in docs.items():
        assert "<script" not in text.lower(), name
        shown = "".join(parse_html(text).text) if name.endswith(".html") else text
        assert "49" not in re.sub(r"[0-9a-f]{16,}", "", shown), name  # {{ 7*7 }} never evaluated (hashes aside)
        assert "<b>" not in text, name  # an evaluator comment's markup stays text
        assert "/etc/passwd" not in text or "../../etc/passwd" in text.replace("&#x2F;", "/")
    html = docs["evaluation-report.html"]
    text = "".join(parse_html(html).text)
    for hostile in HOSTILE_NAMES[:3]:
        assert hostile in text  # shown exactly, as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "{{ 7*7 }}" in html
    md = docs["evaluation-report.md"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert r"\{\{ 7\*7 \}\}" in md and r"\=cmd\|' /C calc'!A0" in md
    assert any(n.startswith("regret-letter-etc-passwd") for n in docs)


def test_hostile_names_inside_charts_are_escaped_and_the_svg_is_xml(tmp_path: Path) -> None:
    svg = str(score_chart_svg([("<script>x</script>", {"t": 40.0, "p": 30.0}, 70.0),
                               ("a & b", {"t": 100 / 3, "p": 0.1 + 0.2}, 100 / 3 + 0.1 + 0.2)],
                              [("t", "Tech <i>"), ("p", "Price")]))
    assert "<script" not in svg and "&lt;script&gt;" in svg and "Tech &lt;i&gt;" in svg
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("style") == "max-width:100%;height:auto" and root.get("width") == "680"
    assert not re.search(r"\d\.\d{3,}", svg)  # coordinates rounded to 2 decimals
    assert "on" not in {a[:2] for el in root.iter() for a in el.attrib}
    kpis = str(kpi_chart_svg([("sl", "Service level", "%", 80.0, "higher")],
                             [("{{ 7*7 }}", {"sl": (78.0, False)}), ("B", {"sl": (86.0, True)})]))
    ET.fromstring(kpis)
    assert "{{ 7*7 }}" in kpis and "stroke-dasharray" in kpis  # the dashed target line


# --------------------------------------------------------------------------
# Determinism and sealed prices
# --------------------------------------------------------------------------


def test_rendering_twice_gives_identical_bytes(tmp_path: Path) -> None:
    first = render_documents(sample_view("zh", hostile=True), host(), workspace=None, out_dir=tmp_path / "a")
    second = render_documents(sample_view("zh", hostile=True), host(), workspace=None, out_dir=tmp_path / "b")
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    # the order of keys and vendors in the view does not matter either
    view = sample_view("zh", hostile=True)
    view["vendors"].reverse()
    view = {key: view[key] for key in reversed(list(view))}
    third = render_documents(view, host(), workspace=None, out_dir=tmp_path / "c")
    for a, c in zip(first, third, strict=True):
        assert a.read_bytes() == c.read_bytes(), a.name


@pytest.mark.parametrize(("lang", "label"), [("en", "sealed until technical evaluation is complete"),
                                             ("zh", "技术评审完成前价格保密")])
def test_sealed_prices_never_appear(tmp_path: Path, lang: str, label: str) -> None:
    view = sample_view(lang)
    view["prices_sealed"] = True
    view["events"].append({"seq": 3, "at": "2027-01-20T09:00:00+08:00", "actor": "li.wei", "kind": "bid.imported",
                           "data": {"vendor": "acme", "total": 1080000.0, "note": "960000.00 from beta"},
                           "hash": "cd" * 32})
    docs = render(tmp_path, view)
    for name, text in docs.items():
        for price in PRICES:
            assert price not in text, (name, price)
    assert label in docs["screening-report.html"] and label in docs["evaluation-report.md"]
    assert label in docs["award-letter-Beta-BPO.html"]
    # the abnormally-low gate's reason compares prices: withheld whole (a percentage below the mean
    # tells as much as the price), in the document's language; the view's one sealing rule
    withheld = {"en": "withheld while prices are sealed", "zh": "价格保密期间不予公开"}[lang]
    assert withheld in docs["screening-report.md"]
    assert "below the mean" not in docs["screening-report.md"]
    assert "1,500,000.00" in docs["rfp.html"]  # the buyer's own budget ceiling is not a bid price


# --------------------------------------------------------------------------
# Overrides: workspace, plugin folders, default: prefix, jinja env hook
# --------------------------------------------------------------------------


def workspace_with(tmp_path: Path, files: dict[str, str]) -> Path:
    ws = tmp_path / "ws"
    (ws / "templates").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (ws / "templates" / name).write_text(text, encoding="utf-8")
    return ws


class OrgTemplates:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @hookimpl
    def rfpflow_template_dirs(self) -> list[Path]:
        return [self.folder]


def test_a_workspace_override_extends_the_default_it_replaces(tmp_path: Path) -> None:
    ws = workspace_with(tmp_path, {"award-letter.html.j2": (
        '{% extends "default:award-letter.html.j2" %}'
        "{% block signature %}<p>Signed for the board: {{ recipient.name }}</p>{% endblock %}")})
    docs = render(tmp_path, sample_view("en", hostile=True), workspace=ws)
    letter = docs["award-letter-script-alert-1-script.html"]
    assert "<p>Signed for the board: &lt;script&gt;alert(1)&lt;/script&gt;</p>" in letter
    assert "Notice of intention to award" in letter  # the rest of the default
    assert "Signed for the board" not in docs["award-letter-script-alert-1-script.md"]
    parse_html(letter)


def test_a_plugin_template_folder_is_searched_before_defaults_and_after_the_workspace(tmp_path: Path) -> None:
    org = tmp_path / "org"
    org.mkdir()
    for name in ("regret-letter.html.j2", "rfp.html.j2"):
        (org / name).write_text(
            f'{{% extends "default:{name}" %}}{{% block signature %}}ORG-SIGNATURE{{% endblock %}}'
            "{% block footer %}{{ super() }}<p>ORG-FOOTER</p>{% endblock %}", encoding="utf-8")
    ws = workspace_with(tmp_path, {"rfp.html.j2": '{% extends "default:rfp.html.j2" %}'
                                   "{% block title %}WS-TITLE{% endblock %}"})
    docs = render(tmp_path, sample_view(), OrgTemplates(org), workspace=ws)
    assert "ORG-SIGNATURE" in docs["regret-letter-Acme-Services.html"]
    assert "ORG-FOOTER" in docs["regret-letter-Acme-Services.html"]
    assert "ORG-SIGNATURE" not in docs["regret-letter-Acme-Services.md"]
    assert "<h1>WS-TITLE</h1>" in docs["rfp.html"] and "ORG-FOOTER" not in docs["rfp.html"]


class Branding:
    @hookimpl
    def rfpflow_prepare_jinja_env(self, env: Any, rfp: Any) -> None:
        env.globals["org_motto"] = f"Fair procurement for {rfp.id if rfp is not None else 'no RFP'}"
        env.filters["shout"] = lambda value: str(value).upper()


def test_a_prepare_jinja_env_plugin_adds_a_global_an_override_uses(tmp_path: Path) -> None:
    from rfpflow.definition import load_rfp
    from rfpflow.testing import make_host
    from rfpflow.workspace import create_workspace

    ws = create_workspace(tmp_path / "ws", make_host())
    rfp = load_rfp(ws / "rfp.toml")
    (ws / "templates" / "award-letter.md.j2").write_text(
        '{% extends "default:award-letter.md.j2" %}'
        "{% block body %}{{ org_motto }} / {{ recipient.name | shout }}\n\n{{ super() }}{% endblock %}",
        encoding="utf-8")
    docs = render(tmp_path, sample_view(), Branding(), workspace=ws, rfp=rfp)
    letter = docs["award-letter-Beta-BPO.md"]
    assert f"Fair procurement for {rfp.id} / BETA BPO" in letter
    assert "Thank you for your bid" in letter and "\\*" not in letter  # super() is not escaped twice
    docs = render(tmp_path, sample_view(), Branding(), workspace=ws, out="no-rfp")
    assert "Fair procurement for no RFP" in docs["award-letter-Beta-BPO.md"]


@pytest.mark.parametrize("payload", [
    "{{ ''.__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ t.__globals__ }}",
    "{{ view.vendors.append(1) }}",
    "{{ view.rfp.update({'id': 'x'}) }}",
    "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
])
def test_a_workspace_template_cannot_escape_the_sandbox(tmp_path: Path, payload: str) -> None:
    ws = workspace_with(tmp_path, {"rfp.html.j2": f"<p>{payload}</p>"})
    with pytest.raises(RenderError, match=r"templates/rfp\.html\.j2.*sandbox") as caught:
        render(tmp_path, sample_view(), workspace=ws)
    assert caught.value.exit_code == 2


def test_template_errors_name_the_template_file(tmp_path: Path) -> None:
    ws = workspace_with(tmp_path, {"rfp.html.j2": "line one\n{% if %}"})
    with pytest.raises(RenderError, match=r"templates/rfp\.html\.j2, line 2"):
        render(tmp_path, sample_view(), workspace=ws)
    ws = workspace_with(tmp_path, {"rfp.html.j2": "{{ view.no_such_thing }}"})
    with pytest.raises(RenderError, match=r"templates/rfp\.html\.j2 uses something the cycle view does not have"):
        render(tmp_path, sample_view(), workspace=ws)
    ws = workspace_with(tmp_path, {"rfp.html.j2": '{% extends "rfp.html.j2" %}'})
    with pytest.raises(RenderError, match=r"extends itself.*default:NAME"):
        render(tmp_path, sample_view(), workspace=ws)


# --------------------------------------------------------------------------
# Which documents, for which vendors
# --------------------------------------------------------------------------


def names(docs: dict[str, str]) -> set[str]:
    return {n.rsplit(".", 1)[0] for n in docs}


def test_documents_render_once_the_cycle_reaches_their_stage(tmp_path: Path) -> None:
    view = sample_view()
    view["stage"] = "screening"
    view["evaluation"] = None
    view["trial"] = None
    view["award"] = None
    assert names(render(tmp_path, view)) == {"rfp", "bid-instructions", "screening-report", "audit-appendix"}
    view["stage"] = "issued"
    assert names(render(tmp_path, view, out="issued")) == {"rfp", "bid-instructions", "audit-appendix"}
    view["stage"] = "draft"
    assert render(tmp_path, view, out="draft") == {}
    full = sample_view()
    full["stage"] = "awarded"
    docs = render(tmp_path, full, out="awarded")
    assert names(docs) == ALL_DOCS
    assert "Subject: Award —" in docs["award-letter-Beta-BPO.md"]


def test_the_trial_report_needs_trial_results_and_the_evaluation_report_needs_totals(tmp_path: Path) -> None:
    view = sample_view()
    view["trial"] = {"results": []}
    assert "trial-report" not in names(render(tmp_path, view))
    view = sample_view()
    view.update(stage="evaluation", award=None, trial=None)
    view["evaluation"]["totals"] = []
    assert "evaluation-report" not in names(render(tmp_path, view, out="b"))


def test_a_cancelled_cycle_renders_what_it_reached(tmp_path: Path) -> None:
    view = sample_view()
    view.update(stage="cancelled", award=None, trial=None)
    assert reached_stage(prepare_view(view)) == "evaluation"
    assert names(render(tmp_path, view)) == {"rfp", "bid-instructions", "screening-report", "evaluation-report",
                                             "audit-appendix"}
    bare = sample_view()
    bare.update(stage="cancelled", award=None, trial=None, evaluation=None, vendors=[])
    bare["events"].append({"seq": 3, "at": "2027-01-30T09:00:00+08:00", "actor": "li.wei", "kind": "stage.changed",
                           "data": {"source": "bids-closed", "target": "cancelled"}, "hash": "ab" * 32})
    assert reached_stage(prepare_view(bare)) == "bids-closed"


def test_the_stage_argument_renders_one_stage_and_the_every_stage_documents(tmp_path: Path) -> None:
    docs = render(tmp_path, sample_view(), stage="screening")
    assert names(docs) == {"screening-report", "audit-appendix"}


def test_per_vendor_selection_by_audience_and_by_name() -> None:
    view = prepare_view(sample_view())
    ids = {a: [v["id"] for v in select_vendors(a, view)] for a in
           ("bidders", "winner", "unsuccessful", "evaluated", "screened-out", "shortlisted")}
    assert ids == {"bidders": ["acme", "beta", "delta", "gamma"], "winner": ["beta"],
                   "unsuccessful": ["acme", "delta", "gamma"], "evaluated": ["acme", "beta", "gamma"],
                   "screened-out": ["delta"], "shortlisted": ["acme", "beta"]}
    assert audience_of(DocumentSpec("award-letter", "x", "awarded", per_vendor=True)) == "winner"
    assert audience_of(DocumentSpec("regret-letter", "x", "awarded", per_vendor=True)) == "unsuccessful"
    assert audience_of(DocumentSpec("contract-winner", "x", "awarded", per_vendor=True)) == "winner"
    assert audience_of(DocumentSpec("clarification", "x", "issued", per_vendor=True)) == "bidders"
    assert audience_of(VendorDocumentSpec("notice", "x", "screening", audience="screened-out")) == "screened-out"
    no_award = prepare_view({**sample_view(), "award": None})
    assert select_vendors("winner", no_award) == [] and select_vendors("unsuccessful", no_award) == []
    with pytest.raises(ValueError):
        VendorDocumentSpec("notice", "x", "screening", audience="everyone")


class PerVendorDocs:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @hookimpl
    def rfpflow_register_documents(self, register: Any) -> None:
        register(DocumentSpec("receipt", "receipt", "bids-closed", per_vendor=True, formats=("md",)))
        register(VendorDocumentSpec("screening-notice", "screening-notice.md.j2", "screening",
                                    audience="screened-out", formats=("md",)))
        register(DocumentSpec("debrief-unsuccessful", "debrief", "award-recommended", per_vendor=True,
                              formats=("md",)))

    @hookimpl
    def rfpflow_template_dirs(self) -> list[Path]:
        return [self.folder]


def test_a_plugins_per_vendor_documents_follow_the_same_selection(tmp_path: Path) -> None:
    folder = tmp_path / "plugin"
    folder.mkdir()
    for name in ("receipt", "screening-notice", "debrief"):
        (folder / f"{name}.md.j2").write_text(f"{name} for {{{{ recipient.name }}}}\n", encoding="utf-8")
    docs = render(tmp_path, sample_view("en", hostile=True), PerVendorDocs(folder))
    receipts = sorted(n for n in docs if n.startswith("receipt-"))
    assert len(receipts) == 4
    assert [n for n in docs if n.startswith("screening-notice-")] == ["screening-notice-etc-passwd.md"]
    assert docs["screening-notice-etc-passwd.md"] == "screening-notice for ../../etc/passwd\n"
    assert len([n for n in docs if n.startswith("debrief-unsuccessful-")]) == 3
    assert "receipt for \\{\\{ 7\\*7 \\}\\}\n" in docs.values()


def test_vendors_with_the_same_name_get_distinct_files(tmp_path: Path) -> None:
    view = sample_view()
    for vendor in view["vendors"]:
        vendor["name"] = "Same Name Ltd."
    docs = render(tmp_path, view)
    assert {n for n in docs if n.startswith("regret-letter-")} == {
        f"regret-letter-Same-Name-Ltd{suffix}.{fmt}" for suffix in ("", "-2", "-3") for fmt in ("html", "md")}


def test_registration_problems_are_render_errors(tmp_path: Path) -> None:
    class BadStage:
        @hookimpl
        def rfpflow_register_documents(self, register: Any) -> None:
            register(DocumentSpec("odd", "odd", "evaluated"))

    with pytest.raises(RenderError, match="unknown stage 'evaluated'"):
        render(tmp_path, sample_view(), BadStage())

    class MissingTemplate:
        @hookimpl
        def rfpflow_register_documents(self, register: Any) -> None:
            register(DocumentSpec("dd-report", "dd_report.html.j2", "screening"))

    with pytest.raises(RenderError, match=r"dd-report.*no template 'dd_report.html.j2'"):
        render(tmp_path, sample_view(), MissingTemplate())
    with pytest.raises(RenderError, match="no document templates for language 'fr'"):
        render(tmp_path, {**sample_view(), "rfp": {**sample_view()["rfp"], "language": "fr"}})


def test_template_names_per_format() -> None:
    assert template_names(DocumentSpec("a", "award-letter", "issued")) == {
        "html": "award-letter.html.j2", "md": "award-letter.md.j2"}
    assert template_names(DocumentSpec("a", "dd_report.html.j2", "issued")) == {
        "html": "dd_report.html.j2", "md": "dd_report.md.j2"}
    assert template_names(DocumentSpec("a", "x/{fmt}/doc.j2", "issued", formats=("md",))) == {"md": "x/md/doc.j2"}


def test_a_plugin_can_replace_a_builtin_document(tmp_path: Path) -> None:
    class NoTrialReport:
        @hookimpl
        def rfpflow_register_documents(self, register: Any) -> None:
            register(DocumentSpec("trial-report", "trial-report", "trial-run", formats=("html",)))

    docs = render(tmp_path, sample_view(), NoTrialReport())
    assert "trial-report.html" in docs and "trial-report.md" not in docs


# --------------------------------------------------------------------------
# File names and escaping helpers
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), [
    ("../../etc/passwd", "etc-passwd"),
    ("..\\..\\windows\\system32", "windows-system32"),
    ("CON", "CON_"),
    ("nul", "nul_"),
    ("NUL.txt", "NUL-txt"),
    ("com1", "com1_"),
    ("LPT9", "LPT9_"),
    ("...hidden", "hidden"),
    ("-rf", "rf"),
    ("", "vendor"),
    ("   ", "vendor"),
    ("///", "vendor"),
    ("示例零售有限公司", "示例零售有限公司"),
    ("北京 某某科技（集团）有限公司", "北京-某某科技-集团-有限公司"),
    ("ＡＣＭＥ　Ｌｔｄ", "ACME-Ltd"),
    ("a:b*c?d\"e<f>g|h", "a-b-c-d-e-f-g-h"),
    ("x" * 200, "x" * 80),
])
def test_sanitize_filename(name: str, expected: str) -> None:
    assert sanitize_filename(name, set()) == expected


def test_sanitize_filename_deduplicates_case_insensitively_and_records_the_name() -> None:
    taken: set[str] = set()
    assert [sanitize_filename(n, taken) for n in ("Acme", "acme", "ACME", "Acme")] == [
        "Acme", "acme-2", "ACME-3", "Acme-4"]
    assert taken == {"Acme", "acme-2", "ACME-3", "Acme-4"}
    assert sanitize_filename("x" * 100, {"x" * 80}) == "x" * 78 + "-2"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120), st.sets(st.text(max_size=10), max_size=5))
def test_sanitize_filename_always_gives_a_safe_unique_stem(name: str, taken: set[str]) -> None:
    before = {t.casefold() for t in taken}
    stem = sanitize_filename(name, taken)
    assert 0 < len(stem) <= 80
    assert re.fullmatch(r"[\w\-]+", stem) and not stem.startswith(("-", "."))
    assert "/" not in stem and "\\" not in stem and ".." not in stem
    assert stem.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)),
                                              *(f"LPT{i}" for i in range(10))}
    assert stem.casefold() not in before and stem in taken


def test_md_escape_makes_vendor_text_inert_markdown() -> None:
    assert md_escape("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"
    assert md_escape("**bold** _it_ [link](http://x) `code` | # ~") == (
        r"\*\*bold\*\* \_it\_ \[link\](http://x) \`code\` \| \# \~")
    assert md_escape("- item") == r"\- item" and md_escape("1. item") == r"1\. item"
    assert md_escape("line\n# heading") == r"line \# heading"
    assert md_escape("1.5 points, 2027-04-19") == "1.5 points, 2027-04-19"  # ordinary text stays readable
    assert md_escape(md_escape("*")) == r"\*"  # escaped once only


def test_filters_format_money_dates_and_percentages(tmp_path: Path) -> None:
    ws = workspace_with(tmp_path, {"rfp.md.j2": (
        "{{ '1080000' | money }}|{{ 1234.5 | money('USD') }}|{{ none | money }}|"
        "{{ '2027-01-29T17:00:00+08:00' | date }}|{{ '2027-01-29T17:00:00+08:00' | datetime }}|"
        "{{ '2027-04-19' | long_date }}|{{ 0.975 | pct }}|{{ 2.675 | num(2) }}|{{ 'n/a' | date }}\n")})
    docs = render(tmp_path, sample_view(), workspace=ws)
    assert docs["rfp.md"] == ("CNY 1,080,000.00|USD 1,234.50|—|2027-01-29|2027-01-29 17:00 +08:00|"
                              "19 April 2027|97.5%|2.68|n/a\n")


def test_a_workspace_base_layout_applies_to_every_default_document(tmp_path: Path) -> None:
    ws = workspace_with(tmp_path, {"_base.html.j2": (
        '{% extends "default:_base.html.j2" %}'
        "{% block heading %}<p>LETTERHEAD {{ rfp.buyer }}</p>{{ super() }}{% endblock %}")})
    docs = render(tmp_path, sample_view("zh"), workspace=ws)
    for name, text in docs.items():
        if name.endswith(".html"):
            assert "<p>LETTERHEAD 示例零售有限公司</p>" in text, name
            parse_html(text)
            assert "审计链头" in text, name  # the audit footer stays


@pytest.mark.parametrize(("lang", "status", "reason", "said"), [
    ("en", "withdrawn", "capacity committed elsewhere",
     "Your bid was withdrawn at your request and was therefore not evaluated "
     "(reason recorded: capacity committed elsewhere)."),
    ("en", "excluded", "did not resubmit after amendment 1",
     "Your bid was excluded from the procedure and was therefore not evaluated or scored, for the following "
     "reason: did not resubmit after amendment 1"),
    ("zh", "withdrawn", "产能已另有安排", "贵单位已撤回投标，故未进入评审（记录的理由：产能已另有安排）。"),
    ("zh", "excluded", "修改后未重新递交", "贵单位的投标已被排除，未进入评审，亦未评分。原因：修改后未重新递交"),
])
def test_a_withdrawn_or_excluded_vendors_letter_says_so_and_why(tmp_path: Path, lang: str, status: str,
                                                                reason: str, said: str) -> None:
    view = sample_view(lang)
    gamma = next(v for v in view["vendors"] if v["id"] == "gamma")
    gamma.update(status=status, status_reason=reason)
    view["evaluation"]["totals"] = [t for t in view["evaluation"]["totals"] if t["vendor"] != "gamma"]
    docs = render(tmp_path, view)
    for fmt in ("md", "html"):
        letter = docs[f"regret-letter-Gamma-Contact-Centre.{fmt}"]
        assert said in letter, letter
        assert "ranked" not in letter and "名（共" not in letter  # not ranked among the evaluated bids
