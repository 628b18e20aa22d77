"""Tables and every query: the only package that writes SQL or knows the database engine.

One module per domain; `Store` combines them over one connection."""

from .actors import ActorQueries
from .authors import AuthorQueries
from .connection import DatabaseUrlError, StoreBase, async_url, is_sqlite, redact, sqlite_path
from .content import ContentQueries
from .deliveries import DeliveryQueries
from .delivery_batch import DeliveryBatchQueries
from .group_posts import GroupPostQueries, GroupPostReplyRow, GroupPostRow
from .health import HealthQueries
from .heartbeats import HEARTBEAT_FRESH, HEARTBEAT_SECONDS, HeartbeatQueries
from .inbound import InboundQueries
from .inbound_batch import InboundBatchQueries
from .interactions import InteractionQueries
from .keyset import Cursor, Page, Window
from .knocking import KnockingQueries
from .links import LinkedPostRow, LinkQueries, LinkRow
from .listing import ListingQueries
from .mail import MailQueries
from .members import MemberQueries
from .migrations import MIGRATIONS_DIR, head_revision, migrate
from .moderation import ModerationQueries
from .offers import OfferQueries
from .rows import (
    AgreementRow,
    FollowerRow,
    LocalActorRow,
    MediaRow,
    NoteRow,
    OfferRow,
    PostRow,
    RemoteActorRow,
    ResponseRow,
    utcnow,
)
from .search import SearchQueries
from .site import SiteQueries
from .social import SocialQueries
from .web import SiteIdentityRow, WebQueries


class Store(
    ActorQueries,
    AuthorQueries,
    SocialQueries,
    ContentQueries,
    ModerationQueries,
    InboundQueries,
    InboundBatchQueries,
    WebQueries,
    DeliveryQueries,
    DeliveryBatchQueries,
    KnockingQueries,
    InteractionQueries,
    OfferQueries,
    LinkQueries,
    SiteQueries,
    MemberQueries,
    MailQueries,
    ListingQueries,
    SearchQueries,
    HeartbeatQueries,
    GroupPostQueries,
    HealthQueries,
):
    """One database: connection lifecycle plus every query the node needs."""


__all__ = [
    "HEARTBEAT_FRESH",
    "HEARTBEAT_SECONDS",
    "MIGRATIONS_DIR",
    "AgreementRow",
    "Cursor",
    "DatabaseUrlError",
    "FollowerRow",
    "GroupPostReplyRow",
    "GroupPostRow",
    "LinkRow",
    "LinkedPostRow",
    "LocalActorRow",
    "MediaRow",
    "NoteRow",
    "OfferRow",
    "Page",
    "PostRow",
    "RemoteActorRow",
    "ResponseRow",
    "SiteIdentityRow",
    "Store",
    "StoreBase",
    "Window",
    "async_url",
    "head_revision",
    "is_sqlite",
    "migrate",
    "redact",
    "sqlite_path",
    "utcnow",
]
