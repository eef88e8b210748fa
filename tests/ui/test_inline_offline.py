"""The inline dashboard (notebook 03) draws offline: with ``pn.extension(inline=True)`` every stylesheet and
script of every tab can be inlined from the installed Panel, so no URL is left for a CDN."""

from __future__ import annotations

import json
import re

import panel as pn
from bokeh.document import Document
from bokeh.models import UIElement
from panel.io.notebook import patch_inline_stylesheets

from workbench.ui.panel.app import inline_dashboard


def test_every_tab_inlines_without_a_cdn(library_wb):
    with pn.config.set(inline=True):
        page = inline_dashboard(library_wb, role="approver", tab="library")
        tabs = page.objects[1]
        for index in range(len(tabs.objects)):  # build every tab, as switching tabs in the notebook does
            tabs.active = index
        doc = Document()
        root = page.get_root(doc)
        doc.add_root(root)
        for model in root.select({"type": UIElement}):  # what Panel does to a comm-rendered model when inline
            patch_inline_stylesheets(model)
        text = json.dumps(doc.to_json(), default=lambda o: str(getattr(o, "content", o)))
    urls = sorted(set(re.findall(r"https?://[^\"\\ )']+", text)))
    assert urls == [], urls
