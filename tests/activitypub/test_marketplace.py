"""FEP-0837 readers take whatever the network sends: every malformed shape is a
MarketplaceError (or None for a note that is no confirmation), never a crash."""

from __future__ import annotations

from typing import Any

import pytest

from activitypub import marketplace
from activitypub.marketplace import MarketplaceError

INTENT = "https://market.example/posts/1#primary"


def _offer(obj: Any) -> dict[str, Any]:
    return {"type": "Offer", "id": "https://social.example/o/1", "object": obj}


def _agreement(**commitment: Any) -> dict[str, Any]:
    stipulates = {"type": "Commitment", "satisfies": INTENT} | commitment
    return {"type": "Agreement", "stipulates": stipulates}


def test_the_fep_example_offer_reads() -> None:
    measure = {"hasUnit": "hour", "hasNumericalValue": "1.5"}
    terms = marketplace.read_offer(_offer(_agreement(resourceQuantity=measure)))
    assert (terms.satisfies, terms.unit, terms.value) == (INTENT, "hour", "1.5")


@pytest.mark.parametrize(
    "obj",
    [
        None,
        "https://social.example/agreements/1",
        {"type": "Note"},
        {"type": "Agreement"},
        {"type": "Agreement", "stipulates": "https://x.example/c"},
        _agreement(),
        _agreement(resourceQuantity="2 hours"),
        _agreement(resourceQuantity={"hasUnit": "hour", "hasNumericalValue": {"x": 1}}),
        _agreement(resourceQuantity={"hasUnit": "hour", "hasNumericalValue": False}),
        {"type": "Agreement", "stipulates": {"type": "Commitment", "satisfies": 3}},
    ],
)
def test_malformed_offers_are_refused_with_a_reason(obj: Any) -> None:
    with pytest.raises(MarketplaceError):
        marketplace.read_offer(_offer(obj))


def test_types_may_be_lists_and_numbers_may_be_numbers() -> None:
    obj = _agreement(resourceQuantity={"hasUnit": "hour", "hasNumericalValue": 2})
    obj["type"] = ["Agreement", "Object"]
    assert marketplace.read_offer(_offer(obj)).value == "2"


def test_an_accept_needs_a_finalised_agreement_id() -> None:
    result = _agreement(resourceQuantity={"hasUnit": "hour"})
    with pytest.raises(MarketplaceError, match="needs an id"):
        marketplace.read_accept({"type": "Accept", "result": result})
    terms = marketplace.read_accept({"type": "Accept", "result": result | {"id": "https://m/a"}})
    assert terms.agreement_id == "https://m/a" and terms.value is None


def test_only_a_note_with_context_and_quantity_is_a_confirmation() -> None:
    assert marketplace.read_confirmation({"type": "Note", "context": "https://m/a"}) is None
    assert marketplace.read_confirmation({"type": "Note", "resourceQuantity": {}}) is None
    note = {"context": "https://m/a", "resourceQuantity": {"hasUnit": "hour"}, "provider": "p"}
    assert marketplace.read_confirmation(note) == marketplace.Terms(
        satisfies="", unit="hour", value=None, agreement_id="https://m/a", provider_id="p"
    )
