"""Who may interact with an object, and the proof that a quote was allowed.

`interactionPolicy` is GoToSocial's shape (https://docs.gotosocial.org/en/latest/federation/
interaction_policy/): one rule per interaction (`canLike`, `canReply`, `canAnnounce`) listing who
is approved automatically and who needs manual approval, as actor ids or collections. Mastodon
4.5 reads `canQuote` in the same object. A quote is asked for with a `QuoteRequest` and allowed
by an `Accept` whose `result` is a dereferenceable `QuoteAuthorization` (FEP-044f).
"""

from __future__ import annotations

from typing import Any

from .vocab import AS_CONTEXT, PUBLIC, Document

FEP_044F = "https://w3id.org/fep/044f#"


def _id_term(name: str) -> dict[str, str]:
    return {"@id": f"gts:{name}", "@type": "@id"}


# JSON-LD terms for documents that carry these properties (GoToSocial's and FEP-044f's).
TERMS: dict[str, Any] = {
    "gts": "https://gotosocial.org/ns#",
    **{
        name: _id_term(name)
        for name in (
            "interactionPolicy",
            "canLike",
            "canReply",
            "canAnnounce",
            "canQuote",
            "automaticApproval",
            "manualApproval",
            "interactingObject",
            "interactionTarget",
        )
    },
    "QuoteRequest": f"{FEP_044F}QuoteRequest",
    "QuoteAuthorization": f"{FEP_044F}QuoteAuthorization",
    "quote": {"@id": f"{FEP_044F}quote", "@type": "@id"},
    "quoteAuthorization": {"@id": f"{FEP_044F}quoteAuthorization", "@type": "@id"},
}


def rule(automatic: list[str], manual: list[str] | None = None) -> Document:
    return {"automaticApproval": list(automatic), "manualApproval": list(manual or [])}


def interaction_policy(
    *,
    can_reply: list[str],
    can_quote: list[str],
    can_like: list[str] | None = None,
    can_announce: list[str] | None = None,
) -> Document:
    """Likes and boosts default to anyone (the public collection)."""
    return {
        "canLike": rule(can_like or [PUBLIC]),
        "canReply": rule(can_reply),
        "canAnnounce": rule(can_announce or [PUBLIC]),
        "canQuote": rule(can_quote),
    }


def quote_authorization(
    authorization_id: str, attributed_to: str, quote_id: str, target_id: str
) -> Document:
    """The stamp a quoting post links to: `attributedTo` allows `interactingObject` to quote
    `interactionTarget`."""
    return {
        "@context": [AS_CONTEXT, TERMS],
        "id": authorization_id,
        "type": "QuoteAuthorization",
        "attributedTo": attributed_to,
        "interactingObject": quote_id,
        "interactionTarget": target_id,
    }
