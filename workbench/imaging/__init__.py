"""Image reading: content sniffing, metadata probes, previews and thumbnails."""
