"""What a file carries out of the system: alt text with an AI disclosure, the sidecar JSON, the XMP packet.

All three are built from a version's lineage summary (:func:`workbench.lineage.summary`), so renditions,
sidecars and channel metadata say the same thing.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

__all__ = ["alt_text", "sidecar", "xmp_packet"]


def alt_text(title: str | None, asset_name: str, preset: str, prov: dict[str, Any], limit: int = 512) -> str:
    """Human alt text (product title, view) with a short AI disclosure; ≤ ``limit`` characters."""
    base = (title or asset_name).replace("_", " ").strip()
    suffix = ""
    if prov.get("ai_generated"):
        suffix = " (AI-generated image)"
    elif prov.get("ai_edited"):
        suffix = " (AI-edited image)"
    return (base + suffix)[:limit]


def sidecar(item_facts: dict[str, Any], prov: dict[str, Any]) -> dict[str, Any]:
    """The per-file sidecar JSON: the file's facts plus its lineage."""
    return {"schema": "workbench.export.sidecar/1", **item_facts, "provenance": prov}


def xmp_packet(title: str, alt: str, prov: dict[str, Any]) -> str:
    """An XMP sidecar (``.xmp``) with title, alt text, IPTC digital source type and the lineage id."""
    source = prov.get("digital_source_type") or ""
    run = prov.get("run") or {}
    fields = {
        "wb:LineageId": prov.get("lineage_id") or "",
        "wb:AssetId": prov.get("asset_id") or "",
        "wb:AIGenerated": "True" if prov.get("ai_generated") else "False",
        "wb:AIEdited": "True" if prov.get("ai_edited") else "False",
        "wb:Engine": run.get("engine") or "",
        "wb:Model": run.get("model") or "",
    }
    wb_attrs = "\n".join(f'    {k}="{escape(str(v), {chr(34): "&quot;"})}"' for k, v in fields.items())
    source_attr = f'\n    Iptc4xmpExt:DigitalSourceType="{escape(source)}"' if source else ""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"\n'
        '    xmlns:wb="https://atelier.example/ns/workbench/1.0/"'
        f"{source_attr}\n{wb_attrs}>\n"
        f'   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(title)}</rdf:li></rdf:Alt></dc:title>\n'
        f'   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(alt)}</rdf:li></rdf:Alt>'
        "</dc:description>\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>\n'
    )
