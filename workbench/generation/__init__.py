"""Generation: recipes, sweeps, the runner and the run ledger (issue: generate and iterate)."""
