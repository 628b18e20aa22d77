"""Readers for documents from the network: the shapes other servers send."""

from __future__ import annotations

from datetime import UTC, datetime

from activitypub.vocab import first_id, published_at


def test_first_id_reads_strings_lists_links_and_objects() -> None:
    assert first_id("https://a.example/1") == "https://a.example/1"
    assert first_id([None, {"type": "Link", "href": "https://a.example/2"}]) == (
        "https://a.example/2"
    )
    assert first_id([{"id": "https://a.example/3"}, "https://a.example/4"]) == "https://a.example/3"
    assert first_id(None) is None
    assert first_id([{"type": "Person"}, 7]) is None


def test_published_at_is_aware_and_none_when_unreadable() -> None:
    moment = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
    assert published_at({"published": "2026-05-01T12:30:00Z"}) == moment
    assert published_at({"published": "2026-05-01T12:30:00"}) == moment  # no offset: UTC
    assert published_at({"published": "yesterday"}) is None
    assert published_at({"published": 1714566600}) is None
    assert published_at({}) is None
