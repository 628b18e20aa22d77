"""Moderation rules: blocks, the status a new comment gets, the comment queue and its log.
Imports settings and storage only, so the inbox and every handler can ask it first."""
