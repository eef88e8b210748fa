"""Tests of the export area: channels, rules, ledger, resume, CLI."""
