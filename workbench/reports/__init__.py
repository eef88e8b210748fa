"""Reports: the savings report and ledger facts behind it."""
