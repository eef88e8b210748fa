"""Built-in export channels, registered through the ``workbench.channels`` entry points like any plugin."""
