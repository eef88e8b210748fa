"""JavaScript shared by the dashboard's custom components, put at the top of their ESM modules.

- ``textEl(tag, className, text)``: an element whose text is set with ``textContent`` (never parsed as
  HTML), for the empty states and labels every component draws;
- ``redrawOn(model, draw, names)``: draw now, and again whenever one of the model's ``names`` changes.
"""

from __future__ import annotations

__all__ = ["ESM_HELPERS"]

ESM_HELPERS = """
function textEl(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}
function redrawOn(model, draw, names) {
  draw();
  for (const name of names) model.on(name, draw);
}
"""
