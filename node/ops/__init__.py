"""The node secret and what keeps a node whole: the vault that seals keys, backup files, dumps,
the mail server connection, and the health checks `conode doctor` and /admin report.
Imports settings and storage only."""
