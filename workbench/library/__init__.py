"""The reference library: ingest, catalog, blobs, assets, folders, collections, search, tags, auto-tagging,
verify; the :class:`~workbench.library.service.Library` service (``wb.library``)."""
