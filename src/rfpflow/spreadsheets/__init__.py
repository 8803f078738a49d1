"""The spreadsheets subsystem: everything rfpflow reads from or writes to an .xlsx file.

It owns the file checks made before any parser (:mod:`~rfpflow.spreadsheets.filecheck`),
the streaming reader (:mod:`~rfpflow.spreadsheets.fast_reader`) beside openpyxl, the
bid-response workbook and its two readers (:mod:`~rfpflow.spreadsheets.bid_writer`,
:mod:`~rfpflow.spreadsheets.bid_reader`, laid out by :mod:`~rfpflow.spreadsheets.layout`
and a vendor's own layout by :mod:`~rfpflow.spreadsheets.mapping`), parsing a cell's value
(:mod:`~rfpflow.spreadsheets.cells`), reading many bid files at once
(:mod:`~rfpflow.spreadsheets.batch`), reproducible saving, item lists and sample
generators. It may import the core (``model``, ``errors``, ``options``, ``uscc``, ``bulk``,
and ``plugins`` for the batch reader); never the workflow, the store or the documents.
openpyxl is imported on first use, not when a module here is imported.
"""
