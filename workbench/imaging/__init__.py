"""Image reading: content sniffing, metadata probes, previews and thumbnails.

Every decode goes through :mod:`workbench.imaging.decode` (allow-list, pixel and time limits); importing this
package applies its process-wide hardening (libvips loaders blocked but the allowed ones, no Ghostscript).
"""

from . import decode as _decode  # noqa: F401  (harden() runs on import)
