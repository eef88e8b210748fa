"""Lineage: one module for where every version came from.

- :func:`graph`: the whole graph of a version (parents, runs, recipes, references, recursively) for the
  UIs and ``workbench lineage``;
- :func:`summary` / :func:`summaries`: the flat facts a file carries out (run, model, seed, references,
  IPTC digital source type), used by renditions, the export's sidecars and channel metadata;
- :func:`alt_text`, :func:`sidecar`, :func:`xmp_packet`: those facts written for people and machines.
"""

from .disclosure import alt_text, sidecar, xmp_packet
from .graph import graph
from .summary import IPTC_SOURCE, summaries, summary

__all__ = ["IPTC_SOURCE", "alt_text", "graph", "sidecar", "summaries", "summary", "xmp_packet"]
