"""The RFP cycle through the real CLI: stages, guards, store, audit trail, faults and concurrency.

Bids here come through a small JSON-reading plugin installed as a real
distribution (entry point), so these tests exercise the workflow itself;
spreadsheet import has its own tests.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import clean_env, run_cli

JSON_BIDS = '''
import json
from decimal import Decimal
from rfpflow import hookimpl
from rfpflow.model import Bid, PriceLine, Answer, Certification
import datetime as dt

@hookimpl
def rfpflow_read_bids(source, rfp, context):
    if not source.name.endswith(".bid.json"):
        return None
    data = json.loads(source.read_text())
    prices = [PriceLine(item.id, item.quantity, Decimal(str(data["prices"][item.id]))) for item in rfp.line_items]
    return [Bid(source.name.split(".")[0], data["name"], source.name,
                fields={"year_established": data.get("year", 2000)},
                certifications=[Certification(c, dt.date(2030, 1, 1)) for c in data.get("certs", [])],
                answers=[Answer(q, a) for q, a in data.get("answers", {}).items()],
                prices=prices)]
'''

BLOCKING = '''
import os, time
from rfpflow import hookimpl

@hookimpl(wrapper=True)
def rfpflow_transition(transition, context):
    result = yield
    if os.environ.get("RFPFLOW_TEST_BLOCK") == transition.command:
        open(os.environ["RFPFLOW_TEST_READY"], "w").close()
        time.sleep(60)
    if os.environ.get("RFPFLOW_TEST_VETO") == transition.command:
        raise RuntimeError("vetoed by policy")
    return result
'''

ISSUED_AT = "2027-01-05T09:00:00+08:00"
BEFORE_DEADLINE = "2027-01-20T09:00:00+08:00"
AFTER_DEADLINE = "2027-02-01T09:00:00+08:00"


def good_bid(name: str, price: float = 80000, **extra: object) -> dict:
    bid = {"name": name, "prices": {"L1": price, "L2": 20000}, "year": 2010, "certs": ["ISO 9001:2015"],
           "answers": {"Q1": "Yes", "Q2": "Yes", "Q3": "Partly"}}
    bid.update(extra)
    return bid


@pytest.fixture
def site(plugin_site) -> Path:
    plugin_site("json-bids", {"json_bids": JSON_BIDS}, {"json-bids": "json_bids"})
    return plugin_site("blocking", {"blocking_plugin": BLOCKING}, {"blocking": "blocking_plugin"})


@pytest.fixture
def rf(site: Path, workspace: Path):
    """Run rfpflow in the workspace with the test plugins installed."""

    def run(*args: str, now: str = BEFORE_DEADLINE, env: dict[str, str] | None = None):
        return run_cli("-C", str(workspace), "--now", now, "--actor", "tester", *args, pythonpath=[site], env=env)

    return run


def write_bid(workspace: Path, vendor: str, data: dict) -> Path:
    path = workspace / "bids" / f"{vendor}.bid.json"
    path.write_text(json.dumps(data))
    return path


def snapshot(workspace: Path) -> tuple[list, list, list]:
    conn = sqlite3.connect(workspace / ".rfpflow" / "cycle.sqlite3")
    try:
        return (conn.execute("SELECT * FROM cycle").fetchall(),
                conn.execute("SELECT * FROM events ORDER BY seq").fetchall(),
                conn.execute("SELECT * FROM records ORDER BY collection, key").fetchall())
    finally:
        conn.close()


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def refused(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_cycle_through_screening_with_status_guiding_each_step(rf, workspace: Path) -> None:
    assert "Next: rfpflow issue" in ok(rf("status", now=ISSUED_AT)).stdout
    ok(rf("issue", now=ISSUED_AT))
    status = ok(rf("status")).stdout
    assert "issued - open for bids" in status and "Next: rfpflow bids import bids/" in status
    write_bid(workspace, "acme", good_bid("Acme Services"))
    write_bid(workspace, "beta", good_bid("Beta BPO", price=70000))
    write_bid(workspace, "cheap", good_bid("Cheap & Co", price=20000))
    write_bid(workspace, "noiso", good_bid("No ISO Ltd", certs=[], answers={"Q1": "No", "Q2": "Yes"}))
    result = ok(rf("bids", "import", "bids"))
    assert "4 imported, 0 refused" in result.stdout
    refused(rf("close"), "vendors may still bid until then")
    refused(rf("screen", now=AFTER_DEADLINE), "`rfpflow screen` is for a cycle that is bids closed; "
            "this one is issued - open for bids")
    assert "Next: rfpflow close" in ok(rf("status", now=AFTER_DEADLINE)).stdout
    ok(rf("close", now=AFTER_DEADLINE))
    screen = ok(rf("screen", now=AFTER_DEADLINE)).stdout
    assert "noiso" in screen and "FAIL" in screen
    assert "iso9001: none of ISO 9001 declared" in screen
    assert "mandatory: Q1 answered 'No', 'Yes' required" in screen
    assert "abnormally_low" in screen and "below the mean of the other bids" in screen
    status = json.loads(ok(rf("status", "--json", now=AFTER_DEADLINE)).stdout)
    assert status["stage"] == "screening"
    assert status["screening"]["vendors"] == {"acme": "pass", "beta": "pass", "cheap": "review", "noiso": "fail"}
    assert status["screening"]["to_resolve"] == ["cheap abnormally_low"]
    assert status["next"].startswith("rfpflow screen resolve cheap abnormally_low --decision pass|fail")
    refused(rf("screen", "resolve", "cheap", "abnormaly_low", "--decision", "pass", "--reason", "x",
               now=AFTER_DEADLINE), "cheap's gates: abnormally_low")
    ok(rf("screen", "resolve", "cheap", "abnormally_low", "--decision", "pass", "--reason",
          "price breakdown explained in clarification 3", now=AFTER_DEADLINE))
    status = json.loads(ok(rf("status", "--json", now=AFTER_DEADLINE)).stdout)
    assert status["screening"]["vendors"]["cheap"] == "pass"
    assert status["next"] == "rfpflow evaluate sheets"
    log = json.loads(ok(rf("log", "--json")).stdout)
    kinds = [e["kind"] for e in log]
    assert kinds[:2] == ["cycle.issued", "stage.changed"]
    assert kinds.count("bid.received") == 4 and "screening.resolved" in kinds
    resolved = next(e for e in log if e["kind"] == "screening.resolved")
    assert resolved["actor"] == "tester" and resolved["data"]["reason"].startswith("price breakdown")
    assert resolved["simulated"] is True and resolved["at"] == AFTER_DEADLINE and resolved["wall_at"] != resolved["at"]
    assert ok(rf("audit", "verify")).stdout.startswith("audit chain intact")


def test_late_bids_and_resubmissions(rf, workspace: Path) -> None:
    ok(rf("issue", now=ISSUED_AT))
    first = write_bid(workspace, "acme", good_bid("Acme Services", price=90000))
    ok(rf("bids", "import", str(first)))
    ok(rf("bids", "import", str(write_bid(workspace, "acme", good_bid("Acme Services", price=85000)))))
    before = snapshot(workspace)
    late = write_bid(workspace, "late", good_bid("Late Ltd"))
    refused(rf("bids", "import", str(late), now=AFTER_DEADLINE), "the bid deadline passed at 2027-01-29T17:00:00+08:00")
    refused(rf("bids", "import", str(late), "--accept-late", now=AFTER_DEADLINE), "needs a reason")
    assert snapshot(workspace) == before
    ok(rf("bids", "import", str(late), "--accept-late", "--reason", "courier delay, receipt stamped 16:55",
          now=AFTER_DEADLINE))
    status = json.loads(ok(rf("status", "--json", now=AFTER_DEADLINE)).stdout)
    assert status["bids"]["received"] == 2 and status["bids"]["late"] == ["late"]
    received = [e for e in json.loads(ok(rf("log", "--json")).stdout) if e["kind"] == "bid.received"]
    assert [(e["data"]["vendor"], e["data"]["resubmission"]) for e in received] == [
        ("acme", False), ("acme", True), ("late", False)]
    assert received[2]["data"]["late_reason"].startswith("courier delay")
    assert received[0]["data"]["sha256"] != received[1]["data"]["sha256"]


def test_edited_definition_is_refused_until_amended_and_bids_resubmitted(rf, workspace: Path) -> None:
    ok(rf("issue", now=ISSUED_AT))
    ok(rf("bids", "import", str(write_bid(workspace, "acme", good_bid("Acme")))))
    definition = workspace / "rfp.toml"
    definition.write_text(definition.read_text().replace("weight = 25", "weight = 30").replace(
        "weight = 20\n", "weight = 15\n", 1))
    before = snapshot(workspace)
    refused(rf("bids", "import", str(workspace / "bids")), "rfp.toml was changed after the RFP was issued")
    refused(rf("amend", "--reason", " "), "needs a reason")
    assert snapshot(workspace) == before
    result = ok(rf("amend", "--reason", "clarification 2: approach weighted higher"))
    assert "must resubmit on the new workbook: acme" in result.stdout
    refused(rf("close", now=AFTER_DEADLINE), "have not been resubmitted: acme")
    ok(rf("bids", "import", str(workspace / "bids" / "acme.bid.json")))
    ok(rf("close", now=AFTER_DEADLINE))
    amended = [e for e in json.loads(ok(rf("log", "--json")).stdout) if e["kind"] == "definition.amended"]
    assert amended[0]["data"]["bids_to_resubmit"] == ["acme"]
    assert amended[0]["data"]["previous_hash"] != amended[0]["data"]["definition_hash"]
    refused(rf("amend", "--reason", "again", now=AFTER_DEADLINE), "can only be amended while the RFP is open")


def test_a_plugin_vetoing_a_transition_changes_nothing(rf, workspace: Path) -> None:
    ok(rf("issue", now=ISSUED_AT))
    ok(rf("bids", "import", str(write_bid(workspace, "acme", good_bid("Acme")))))
    before = snapshot(workspace)
    result = rf("close", now=AFTER_DEADLINE, env={"RFPFLOW_TEST_VETO": "close"})
    refused(result, "plugin 'blocking' failed in rfpflow_transition: RuntimeError: vetoed by policy")
    assert snapshot(workspace) == before
    ok(rf("close", now=AFTER_DEADLINE))


def test_a_veto_at_issue_leaves_no_cycle_and_no_workbook(rf, workspace: Path) -> None:
    result = rf("issue", now=ISSUED_AT, env={"RFPFLOW_TEST_VETO": "issue"})
    refused(result, "vetoed by policy")
    assert "Next: rfpflow issue" in ok(rf("status")).stdout
    assert not list((workspace / "out").iterdir())


def test_cancel_needs_a_reason_and_ends_the_cycle(rf, workspace: Path) -> None:
    ok(rf("issue", now=ISSUED_AT))
    assert rf("cancel").returncode == 2  # --reason is required
    ok(rf("cancel", "--reason", "budget withdrawn"))
    refused(rf("cancel", "--reason", "again"), "this one is cancelled")
    assert "nothing: the cycle was cancelled" in ok(rf("status")).stdout


def _tamper(workspace: Path, sql: str, *params: object) -> None:
    conn = sqlite3.connect(workspace / ".rfpflow" / "cycle.sqlite3")
    conn.execute(sql, params)
    conn.commit()
    conn.close()


@pytest.mark.parametrize(("sql", "message"), [
    pytest.param(["UPDATE events SET data = replace(data, 'Acme', 'Acne') WHERE seq = 3"],
                 "event 3 (bid.received) was changed", id="edit"),
    pytest.param(["DELETE FROM events WHERE seq = 3"],
                 "event 3 is missing: the log jumps from event 2 to event 4", id="delete"),
    pytest.param(["UPDATE events SET seq = seq + 100 WHERE seq >= 3",
                  "UPDATE events SET seq = seq - 99 WHERE seq > 100",
                  "INSERT INTO events SELECT 3, at, wall_at, simulated, actor, kind, data, prev_hash, hash "
                  "FROM events WHERE seq = 2"],
                 "event 3 (stage.changed) does not follow the event before it", id="insert"),
    pytest.param(["UPDATE events SET seq = CASE seq WHEN 3 THEN 104 WHEN 4 THEN 103 ELSE seq END",
                  "UPDATE events SET seq = seq - 100 WHERE seq > 100"],
                 "event 3 (bid.received) does not follow the event before it", id="reorder"),
    pytest.param(["DELETE FROM events WHERE seq >= 4"],
                 "the log ends at event 3 but the cycle records 6 events", id="truncate"),
])
def test_audit_verify_catches_tampering(rf, workspace: Path, sql: list[str], message: str) -> None:
    ok(rf("issue", now=ISSUED_AT))
    ok(rf("bids", "import", str(write_bid(workspace, "acme", good_bid("Acme")))))
    ok(rf("bids", "import", str(write_bid(workspace, "beta", good_bid("Beta")))))
    ok(rf("cancel", "--reason", "test"))
    assert ok(rf("audit", "verify")).stdout.startswith("audit chain intact: 6 events")
    for statement in sql:
        _tamper(workspace, statement)
    result = rf("audit", "verify")
    assert result.returncode == 1, result.stdout
    assert "audit chain BROKEN" in result.stderr and message in result.stderr, result.stderr


def test_four_processes_importing_at_once_lose_nothing(site: Path, workspace: Path) -> None:
    base = ["-C", str(workspace), "--now", BEFORE_DEADLINE]
    ok(run_cli("-C", str(workspace), "--now", ISSUED_AT, "issue", pythonpath=[site]))
    files = [write_bid(workspace, f"v{i}", good_bid(f"Vendor {i}", price=60000 + i)) for i in range(8)]
    env = clean_env({"PYTHONPATH": str(site)})
    procs = [
        subprocess.Popen([sys.executable, "-m", "rfpflow", *base, "--actor", f"clerk{n}", "bids", "import",
                          str(files[2 * n]), str(files[2 * n + 1])], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for n in range(4)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, out + err
    status = json.loads(ok(run_cli(*base, "status", "--json", pythonpath=[site])).stdout)
    assert status["bids"]["received"] == 8
    assert ok(run_cli(*base, "audit", "verify", pythonpath=[site])).stdout.startswith("audit chain intact: 10 events")


def test_sigkill_in_the_middle_of_a_command_leaves_the_store_as_before(site: Path, workspace: Path,
                                                                       tmp_path: Path) -> None:
    ok(run_cli("-C", str(workspace), "--now", ISSUED_AT, "issue", pythonpath=[site]))
    ok(run_cli("-C", str(workspace), "--now", BEFORE_DEADLINE, "bids", "import",
               str(write_bid(workspace, "acme", good_bid("Acme"))), pythonpath=[site]))
    before = snapshot(workspace)
    ready = tmp_path / "ready"
    env = clean_env({"PYTHONPATH": str(site), "RFPFLOW_TEST_BLOCK": "close", "RFPFLOW_TEST_READY": str(ready)})
    proc = subprocess.Popen([sys.executable, "-m", "rfpflow", "-C", str(workspace), "--now", AFTER_DEADLINE,
                             "close"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ready.exists(), "the blocking plugin never ran"
    # the command has written its events and new stage inside the transaction, and is now stuck
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    conn = sqlite3.connect(workspace / ".rfpflow" / "cycle.sqlite3")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert snapshot(workspace) == before
    assert ok(run_cli("-C", str(workspace), "audit", "verify", pythonpath=[site])).stdout.startswith(
        "audit chain intact: 3 events")
    ok(run_cli("-C", str(workspace), "--now", AFTER_DEADLINE, "close", pythonpath=[site]))


def test_a_store_killed_before_its_schema_committed_holds_no_cycle(rf, workspace: Path) -> None:
    """`issue` killed right after SQLite created the file: status says draft and issue works again."""
    (workspace / ".rfpflow").mkdir()
    conn = sqlite3.connect(workspace / ".rfpflow" / "cycle.sqlite3")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    assert "Next: rfpflow issue" in ok(rf("status", now=ISSUED_AT)).stdout
    ok(rf("issue", now=ISSUED_AT))
    assert ok(rf("audit", "verify")).stdout.startswith("audit chain intact: 2 events")
