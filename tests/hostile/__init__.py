"""Hostile and broken inputs for rfpflow, generated at test time (nothing binary is committed).

* :mod:`tests.hostile.corpus` -- the corpus: every bid workbook and rfp.toml case with
  its expected outcome, and :func:`tests.hostile.corpus.counts` (the numbers quoted in
  docs/reliability.md: ``python -m tests.hostile.corpus`` prints them).
* :mod:`tests.hostile.xlsx_edit` -- building blocks: editing cells in the XML of a
  workbook, ZIP bombs, fake OLE2 containers, XML entity payloads.
* :mod:`tests.hostile.harness` -- running the real CLI (in-process or as a
  subprocess), snapshots of the store, workspaces at each stage of the flagship cycle,
  killing a command at a chosen point.

Used by tests/test_hostile_inputs.py, tests/test_properties.py and tests/test_faults.py.
"""
