"""The repository's government-procurement sample runs with rfpflow-cn-gov installed.

``samples/cn-gov-services``: 江州市档案馆 buys archive digitisation by comprehensive scoring;
one of four bids fails qualification review (a dishonest-entity listing), three valid bids
remain, and the plugin renders its Chinese documents. The samples live in the repository, not
in the plugin's sdist, so these tests skip when the folder is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "cn-gov-services"
RFP_ID = "JZCG-2027-0412"
WINNER = "江州华档数字科技有限公司"

pytestmark = pytest.mark.skipif(not SAMPLE.is_dir(), reason=f"the repository's samples folder is not here "
                                                            f"({SAMPLE.parent}): an sdist of the plugin has no samples")


def _rfpflow(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m rfpflow ARGS`` with the installed plugins, as a user runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RFPFLOW_")}
    env["NO_COLOR"] = "1"
    return subprocess.run([sys.executable, "-m", "rfpflow", *args], env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "cn-gov-services"
    result = _rfpflow("run", str(SAMPLE), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def _view(workspace: Path) -> dict[str, Any]:
    return json.loads((workspace / "out" / f"{RFP_ID}.json").read_text(encoding="utf-8"))["cycle"]


def _read(workspace: Path, name: str) -> str:
    return (workspace / "out" / name).read_text(encoding="utf-8")


def test_the_sample_passes_the_order_87_checks(workspace: Path) -> None:
    result = _rfpflow("-C", str(workspace), "validate")
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr  # the profile is installed, and nothing is questioned


def test_three_valid_bids_are_enough_and_the_ranking_decides(workspace: Path) -> None:
    view = _view(workspace)
    assert view["stage"] == "awarded" and view["trial"] is None
    assert sorted(v["id"] for v in view["vendors"] if v["screening"] == "pass") == ["huadang", "jinshi", "mingyuan"]
    award = view["award"]
    assert award["vendor"] == "huadang" and award["follows_ranking"] is True
    assert [r["vendor"] for r in award["ranking"]] == ["huadang", "mingyuan", "jinshi"]


def test_evaluation_report_and_award_announcement(workspace: Path) -> None:
    report = _read(workspace, "cn-gov-evaluation-report.md")
    assert report.startswith("# 评标报告")
    assert "| 杭州恒信数据处理有限公司 | 未通过 |" in report
    assert f"| 1 | {WINNER} | CNY 2,680,000.00 | 26.19 | 86.23 |" in report
    assert "| 2 | 南京明远信息服务有限公司 | CNY 2,340,000.00 | 30.00 | 83.16 |" in report
    for expert in ("周振华", "林晓梅", "郑国强", "许文静"):
        assert expert in report
    announcement = _read(workspace, "cn-gov-award-announcement.html")
    assert "中标结果公告" in announcement and WINNER in announcement
    assert "91360102MA35K8HD26" in announcement  # the winner's unified social credit code
    assert "钱立新" not in _read(workspace, "cn-gov-award-announcement.md")  # the buyer's representative is no expert


def test_award_notice_and_unsuccessful_notices(workspace: Path) -> None:
    notice = _read(workspace, f"cn-gov-award-notice-{WINNER}.md")
    assert notice.startswith("# 中标通知书")
    assert "综合得分 86.23 分，排名第 1 名，中标金额为 CNY 2,680,000.00" in notice
    assert "三十日内" in notice
    assert "中标通知书" in _read(workspace, f"cn-gov-award-notice-{WINNER}.html")
    unsuccessful = sorted(p.name for p in (workspace / "out").glob("cn-gov-unsuccessful-notice-*.md"))
    assert len(unsuccessful) == 3
    mingyuan = _read(workspace, "cn-gov-unsuccessful-notice-南京明远信息服务有限公司.md")
    assert "你单位综合得分 83.16 分，排名第 2 名（共 3 家）" in mingyuan
    hengxin = _read(workspace, "cn-gov-unsuccessful-notice-杭州恒信数据处理有限公司.md")
    assert "未通过审查" in hengxin and "2026-09-14" in hengxin
    manifest = _read(workspace, "archive-manifest.md")
    assert "15 年" in manifest and "投标文件（4 份）" in manifest
