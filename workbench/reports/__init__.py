"""Reports: the savings report and the ledger facts behind it; the
:class:`~workbench.reports.service.Reports` service (``wb.reports``)."""
