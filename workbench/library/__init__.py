"""The reference library: ingest, catalog, assets, folders, collections, search, verify."""
