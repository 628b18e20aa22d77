"""Talking to other servers: our actors and their keys, remote actors (fetched, checked, cached),
the delivery queue and its retry policy, caps on what arrives, following, remote interaction.
Imports settings, cache, storage, ops, moderation and context; the domains build on it."""
