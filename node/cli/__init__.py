"""The `conode` command: `main` parses and dispatches, one module per command group.
An interface: nothing else in node/ imports it."""
