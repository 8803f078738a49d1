"""cn-gov-87: the tender fails (废标) below three valid bids; the documents of the award."""

from __future__ import annotations

from pathlib import Path

import pytest

from rfpflow.documents import render_documents
from rfpflow.errors import RfpflowError
from rfpflow.model import RankedVendor, Ranking, Rfp


def _ranking(n: int) -> Ranking:
    return Ranking("weighted-sum", [RankedVendor(f"v{i}", i, 90.0 - i) for i in range(1, n + 1)])


def _rfp(profile: str = "cn-gov-87") -> Rfp:
    return Rfp(id="GP-1", title="t", buyer="b", category="ITO", currency="CNY", language="zh", profile=profile)


def test_fewer_than_three_ranked_bids_fail_the_tender(rfpflow_host, rfpflow_context, plugin) -> None:
    host = rfpflow_host(plugin)
    with pytest.raises(RfpflowError, match=r"fewer than 3 bids passed review: the tender fails \(废标\)"):
        host.first("rfpflow_decide_award", object, ranking=_ranking(2), rfp=_rfp(), context=rfpflow_context(host))


def test_three_bids_leave_the_award_to_rfpflow(rfpflow_context, plugin) -> None:
    assert plugin.rfpflow_decide_award(_ranking(3), _rfp(), rfpflow_context()) is None


def test_other_profiles_award_with_fewer_bids(rfpflow_context, plugin) -> None:
    assert plugin.rfpflow_decide_award(_ranking(1), _rfp("generic"), rfpflow_context()) is None


@pytest.fixture
def render(rfpflow_host, plugin, award_view, tmp_path: Path):
    host = rfpflow_host(plugin, blocked=["rfpflow.builtins.documents"])

    def run(stage: str = "awarded") -> dict[str, str]:
        paths = render_documents(award_view(stage), host, workspace=None, out_dir=tmp_path / stage)
        return {p.name: p.read_text(encoding="utf-8") for p in paths}

    return run


def test_documents_after_the_award(render) -> None:
    files = render()
    stems = sorted({name.rsplit(".", 1)[0] for name in files})
    assert stems == ["archive-manifest", "cn-gov-award-announcement", "cn-gov-award-notice-甲信息技术有限公司",
                     "cn-gov-evaluation-report", "cn-gov-unsuccessful-notice-丁-script-公司-script",
                     "cn-gov-unsuccessful-notice-丙运维服务有限公司", "cn-gov-unsuccessful-notice-乙科技有限公司"]
    assert all(name.endswith((".html", ".md")) for name in files)


def test_evaluation_report_ranks_and_recommends_three_candidates(render) -> None:
    html = render()["cn-gov-evaluation-report.html"]
    assert "<h1>评标报告</h1>" in html
    assert html.index("甲信息技术有限公司") < html.index("乙科技有限公司") < html.index("丙运维服务有限公司")
    assert "28.80" in html  # v1's price points
    assert "Q22-4" in html  # why v4 failed review
    assert "丁&lt;script&gt;" in html


def test_award_notice_and_announcement(render) -> None:
    files = render()
    notice = files["cn-gov-award-notice-甲信息技术有限公司.html"]
    assert "中标通知书" in notice and "三十日内" in notice and "CNY 2,500,000.00" in notice
    announcement = files["cn-gov-award-announcement.html"]
    assert "评审专家1、评审专家2、评审专家3、评审专家4" in announcement
    assert "采购人代表" not in announcement
    assert "七个工作日" in announcement


def test_unsuccessful_notice_gives_the_vendors_own_score_and_rank(render) -> None:
    files = render()
    letter = files["cn-gov-unsuccessful-notice-乙科技有限公司.md"]
    assert "86.50 分" in letter and "第 2 名" in letter and "共 3 家" in letter
    failed = files["cn-gov-unsuccessful-notice-丁-script-公司-script.html"]
    assert "未通过资格审查" in failed and "Q22-4" in failed


def test_archive_manifest_notes_the_15_year_retention_and_grows_with_the_cycle(render) -> None:
    early = render("evaluation")
    assert sorted(early) == ["archive-manifest.html", "archive-manifest.md", "cn-gov-evaluation-report.html",
                             "cn-gov-evaluation-report.md"]
    assert "至少十五年" in early["archive-manifest.html"]
    assert "待形成" in early["archive-manifest.html"]
    assert "待形成" not in render()["archive-manifest.html"]
