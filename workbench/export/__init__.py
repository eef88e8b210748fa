"""Export: channel plans and deliveries, the export ledger."""
