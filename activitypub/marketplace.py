"""FEP-0837 (Federated Marketplace) on ActivityStreams: the JSON-LD terms, builders for the
proposal terms an offer or request carries, agreements, Accept/Reject of an Offer(Agreement) and
confirmations, and readers for what a marketplace-aware server sends.

Terms follow the FEP's examples: Valueflows (`vf:`) and the Ontology of units of Measure
(`om2:`); `provider`/`receiver` are Valueflows' own commitment properties. Quantities travel as
decimal strings (`"1.5"`), as in the FEP, so no float rounding creeps into an hours ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from .objects import isoformat
from .vocab import AS_CONTEXT, Document, as_list, id_of

VF = "https://w3id.org/valueflows/ont/vf#"
OM2 = "http://www.ontology-of-units-of-measure.org/resource/om-2/"
HOUR = "hour"
Purpose = Literal["offer", "request"]

TERMS: Document = {
    "vf": VF,
    "om2": OM2,
    "Proposal": "vf:Proposal",
    "Intent": "vf:Intent",
    "Agreement": "vf:Agreement",
    "Commitment": "vf:Commitment",
    "purpose": "vf:purpose",
    "publishes": "vf:publishes",
    "reciprocal": "vf:reciprocal",
    "unitBased": "vf:unitBased",
    "action": "vf:action",
    "resourceConformsTo": "vf:resourceConformsTo",
    "resourceQuantity": "vf:resourceQuantity",
    "availableQuantity": "vf:availableQuantity",
    "hasUnit": "om2:hasUnit",
    "hasNumericalValue": "om2:hasNumericalValue",
    "stipulates": "vf:stipulates",
    "stipulatesReciprocal": "vf:stipulatesReciprocal",
    "satisfies": "vf:satisfies",
    "provider": {"@id": "vf:provider", "@type": "@id"},
    "receiver": {"@id": "vf:receiver", "@type": "@id"},
}
# Everything a give/take document uses beyond the ActivityStreams context is defined here.
CONTEXT: list[Any] = [AS_CONTEXT, {"Hashtag": "as:Hashtag", "sensitive": "as:sensitive", **TERMS}]


class MarketplaceError(ValueError):
    """A marketplace document we cannot use; the message says why (for the activity log)."""


def quantity(value: str | None) -> Document:
    """An om2 measure in hours; without a value any amount may be proposed (FEP-0837)."""
    document: Document = {"hasUnit": HOUR}
    if value is not None:
        document["hasNumericalValue"] = value
    return document


@dataclass(frozen=True)
class ProposalInfo:
    object_id: str
    purpose: Purpose
    hours: str | None
    category_id: str | None
    available: bool
    place: str | None = None
    end_time: datetime | None = None
    action: str = "deliverService"


def intent_id(object_id: str) -> str:
    return f"{object_id}#primary"


def proposal_terms(info: ProposalInfo) -> Document:
    """The FEP-0837 properties to merge into the Note that carries an offer or request. Once the
    offer is no longer open, `availableQuantity` is zero: nothing more can be taken up."""
    intent: Document = {
        "id": intent_id(info.object_id),
        "type": "Intent",
        "action": info.action,
        "resourceQuantity": quantity(info.hours),
    }
    if info.category_id:
        intent["resourceConformsTo"] = info.category_id
    if not info.available:
        intent["availableQuantity"] = quantity("0")
    terms: Document = {"purpose": info.purpose, "publishes": intent}
    if info.place:
        terms["location"] = {"type": "Place", "name": info.place}
    if info.end_time is not None:
        terms["endTime"] = isoformat(info.end_time)
    return terms


@dataclass(frozen=True)
class AgreementInfo:
    agreement_id: str
    satisfies: str  # the intent id of the proposal
    provider_id: str  # who gives the hours
    receiver_id: str  # who receives them
    hours: str | None


def agreement(info: AgreementInfo) -> Document:
    return {
        "id": info.agreement_id,
        "type": "Agreement",
        "stipulates": {
            "id": f"{info.agreement_id}#primary",
            "type": "Commitment",
            "satisfies": info.satisfies,
            "resourceQuantity": quantity(info.hours),
            "provider": info.provider_id,
            "receiver": info.receiver_id,
        },
    }


def accept_offer(
    activity_id: str, actor_id: str, offer_id: str, result: Document, to: str
) -> Document:
    """`Accept{object: <the Offer (or reply) id>, result: Agreement}`, as FEP-0837 requires."""
    return {
        "@context": CONTEXT,
        "id": activity_id,
        "type": "Accept",
        "actor": actor_id,
        "object": offer_id,
        "result": result,
        "to": [to],
    }


def reject_offer(activity_id: str, actor_id: str, offer_id: str, to: str, reason: str) -> Document:
    return {
        "@context": AS_CONTEXT,
        "id": activity_id,
        "type": "Reject",
        "actor": actor_id,
        "object": offer_id,
        "content": reason,
        "to": [to],
    }


def confirmation_terms(
    agreement_id: str, provider_id: str, receiver_id: str, hours: str
) -> Document:
    """What a confirmation Note adds: `context` references the Agreement (FEP-0837), and the
    Valueflows terms say who gave how many hours to whom."""
    return {
        "context": agreement_id,
        "provider": provider_id,
        "receiver": receiver_id,
        "resourceQuantity": quantity(hours),
    }


# --- readers -----------------------------------------------------------------------------------


def has_type(document: Any, name: str) -> bool:
    return isinstance(document, dict) and name in as_list(document.get("type"))


def _value_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MarketplaceError("hasNumericalValue is not a number")
    return str(value)[:32]


@dataclass(frozen=True)
class Terms:
    """A commitment as read: the intent it satisfies, its unit and amount (unchecked text)."""

    satisfies: str
    unit: str
    value: str | None
    agreement_id: str | None = None
    provider_id: str | None = None
    receiver_id: str | None = None


def _commitment(agreement_doc: Any) -> Terms:
    if not has_type(agreement_doc, "Agreement"):
        raise MarketplaceError("object is not an Agreement")
    commitment = agreement_doc.get("stipulates")
    if not has_type(commitment, "Commitment"):
        raise MarketplaceError("the Agreement stipulates no Commitment")
    satisfies = id_of(commitment.get("satisfies"))
    measure = commitment.get("resourceQuantity")
    if not satisfies or not isinstance(measure, dict):
        raise MarketplaceError("the Commitment lacks satisfies or resourceQuantity")
    unit = measure.get("hasUnit")
    return Terms(
        satisfies=satisfies,
        unit=unit if isinstance(unit, str) else "",
        value=_value_text(measure.get("hasNumericalValue")),
        agreement_id=id_of(agreement_doc.get("id")),
        provider_id=id_of(commitment.get("provider")),
        receiver_id=id_of(commitment.get("receiver")),
    )


def read_offer(activity: Document) -> Terms:
    """The terms of an `Offer{object: Agreement}`; raises MarketplaceError."""
    return _commitment(activity.get("object"))


def read_accept(activity: Document) -> Terms:
    """The finalised agreement in an `Accept{result: Agreement}`; raises MarketplaceError."""
    terms = _commitment(activity.get("result"))
    if not terms.agreement_id:
        raise MarketplaceError("a finalised Agreement needs an id")
    return terms


def read_confirmation(note: Document) -> Terms | None:
    """The agreement a confirmation Note closes, or None when the note is not one."""
    agreement_id = id_of(note.get("context"))
    measure = note.get("resourceQuantity")
    if not agreement_id or not isinstance(measure, dict):
        return None
    unit = measure.get("hasUnit")
    return Terms(
        satisfies="",
        unit=unit if isinstance(unit, str) else "",
        value=_value_text(measure.get("hasNumericalValue")),
        agreement_id=agreement_id,
        provider_id=id_of(note.get("provider")),
        receiver_id=id_of(note.get("receiver")),
    )
