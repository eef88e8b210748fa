"""The served Panel dashboard: ``app`` builds the page, ``state`` holds per-session state, one module per tab."""
