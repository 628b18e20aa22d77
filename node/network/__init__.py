"""Linked nodes: links between Groups, sharing one hop, link checks and catching up, shared
blocks, and the network seen as one (feed, offers, directory). Builds on content and offers."""
