"""Issue 17: re-importing any input marks exactly the results computed from it stale (a property).

The digests are computed over the store's records; here an in-memory transaction holds a cycle whose
every derived result was stamped, one input collection is changed, and the stale set must be exactly
that input's dependents.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from rfpflow.workflow import stale_results, stamp

DEPENDENTS = {
    "bids": {"evaluation", "shortlist", "award"},
    "screening": {"evaluation", "shortlist", "award"},
    "scores": {"evaluation", "shortlist", "award"},
    "measurements": {"trial", "award"},
}


class MemoryTx:
    """The part of the store's Transaction the digests read and write."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}

    def put(self, collection: str, key: str, data: Any) -> None:
        self.records.setdefault(collection, {})[key] = json.loads(json.dumps(data))

    def get_raw(self, collection: str, key: str) -> Any | None:
        return self.records.get(collection, {}).get(key)

    def all_raw(self, collection: str) -> list[tuple[str, Any]]:
        return sorted(self.records.get(collection, {}).items())


values = st.dictionaries(st.sampled_from(["a", "b", "c"]), st.integers(0, 10), min_size=1, max_size=3)


@given(inputs=st.fixed_dictionaries({name: values for name in DEPENDENTS}),
       changed=st.sampled_from(sorted(DEPENDENTS)), key=st.sampled_from(["a", "b", "z"]), value=st.integers(11, 20))
def test_changing_one_input_marks_exactly_its_dependents_stale(inputs: dict[str, dict[str, int]], changed: str,
                                                               key: str, value: int) -> None:
    tx = MemoryTx()
    for collection, records in inputs.items():
        for k, v in records.items():
            tx.put(collection, k, {"value": v})
    tx.put("evaluation", "result", {"totals": [1]})
    stamp(tx, "evaluation")  # type: ignore[arg-type]
    tx.put("shortlist", "vendors", ["a"])
    stamp(tx, "shortlist")  # type: ignore[arg-type]
    tx.put("trial", "result", {"results": [1]})
    stamp(tx, "trial")  # type: ignore[arg-type]
    tx.put("award", "decision", {"vendor": "a"})
    stamp(tx, "award")  # type: ignore[arg-type]
    assert stale_results(tx) == {}  # type: ignore[arg-type]
    tx.put(changed, key, {"value": value})  # a re-import: a new value (or a new record)
    assert set(stale_results(tx)) == DEPENDENTS[changed]  # type: ignore[arg-type]
    if key in inputs[changed]:  # the same record imported again as it was: nothing is stale
        tx.put(changed, key, {"value": inputs[changed][key]})
    else:
        del tx.records[changed][key]
    assert stale_results(tx) == {}  # type: ignore[arg-type]
