"""The node secret and what keeps a node whole: the vault that seals keys, backup files, dumps.
Imports settings and storage only."""
