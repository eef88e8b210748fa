"""User interfaces: ipywidgets and the Panel dashboard. Thin layers over the core API; the core never imports these."""
