"""Review: commit, history, lineage, diff, reproduce, review states, tags, renditions and checks."""
