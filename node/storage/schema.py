"""Table definitions (SQLAlchemy Core). Migrations in node/storage/alembic/versions/ create them;
node/storage/ queries them. A change here comes with a new migration."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

URL = sa.String(2048)  # ActivityPub ids and URLs


def _created() -> sa.Column[object]:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


local_actors = sa.Table(
    "local_actors",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False, index=True),  # Person | Group | Application
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("summary", sa.Text, nullable=False, server_default=""),
    sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("password_hash", sa.String(200), nullable=True),
    sa.Column("public_key_pem", sa.Text, nullable=False),
    sa.Column("private_key_sealed", sa.Text, nullable=False),  # AES-GCM, see node/ops/vault.py
    _created(),
    # accounts (migration 0008): a moderator role apart from admin, suspension, deletion, and
    # the session generation every signed-in request is checked against (bumped to revoke)
    sa.Column("is_moderator", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("session_generation", sa.Integer, nullable=False, server_default="0"),
    # FEP-8b32 object proofs (migration 0014): an Ed25519 key, sealed like the RSA one, and its
    # public half as a FEP-521a multibase value for the actor document
    sa.Column("ed25519_public", sa.String(64), nullable=True),
    sa.Column("ed25519_private_sealed", sa.Text, nullable=True),
    # members' own space (migration 0012): the bio as written (Markdown; `summary` holds it
    # sanitised as HTML), the avatar (media rows `<avatar_id>-<size>`), an address for mail
    sa.Column("bio", sa.Text, nullable=False, server_default=""),
    sa.Column("avatar_id", sa.String(32), nullable=True),
    sa.Column("email", sa.String(320), nullable=True),
    # moving (migration 0021): the accounts elsewhere this one says it also is (a JSON list of
    # actor ids, `alsoKnownAs`), and the account it moved to (`movedTo`) and when
    sa.Column("also_known_as", sa.Text, nullable=False, server_default="[]"),
    sa.Column("moved_to", URL, nullable=True),
    sa.Column("moved_at", sa.DateTime(timezone=True), nullable=True),
    # mail choices (migration 0017): the notification kinds mailed, comma-separated between
    # commas (",response,agreement,"; NULL: the defaults), and when the moderators' hourly digest
    # last went out to this member
    sa.Column("mail_kinds", sa.String(300), nullable=True),
    sa.Column("mail_digest_at", sa.DateTime(timezone=True), nullable=True),
    # the member's language for the web pages (migration 0019); NULL: not chosen
    sa.Column("language", sa.String(16), nullable=True),
)

# --- remote actors we have fetched (keys, inboxes) ---------------------------------------------

remote_actors = sa.Table(
    "remote_actors",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("actor_id", URL, nullable=False, unique=True),
    sa.Column("host", sa.String(255), nullable=False, index=True),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("username", sa.String(255), nullable=False, server_default=""),
    sa.Column("name", sa.String(500), nullable=False, server_default=""),
    sa.Column("profile_url", URL, nullable=True),
    sa.Column("inbox_url", URL, nullable=False),
    sa.Column("shared_inbox_url", URL, nullable=True),
    sa.Column("key_id", URL, nullable=False, index=True),
    sa.Column("public_key_pem", sa.Text, nullable=False),
    sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("icon_url", URL, nullable=True),  # their picture, as they publish it (0012)
    # JSON {verification method id: publicKeyMultibase}: their FEP-521a assertionMethod (0020)
    sa.Column("assertion_keys", sa.Text, nullable=True),
)

# --- the social graph ------------------------------------------------------------------------

followers = sa.Table(
    "followers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("local_actor_id", sa.Integer, sa.ForeignKey("local_actors.id"), nullable=False),
    sa.Column("actor_id", URL, nullable=False, index=True),
    sa.Column("host", sa.String(255), nullable=False, index=True),
    sa.Column("inbox_url", URL, nullable=False),
    sa.Column("shared_inbox_url", URL, nullable=True),
    sa.Column("follow_id", URL, nullable=True),
    _created(),
    sa.UniqueConstraint("local_actor_id", "actor_id"),
)

following = sa.Table(
    "following",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("local_actor_id", sa.Integer, sa.ForeignKey("local_actors.id"), nullable=False),
    sa.Column("actor_id", URL, nullable=False),
    sa.Column("follow_id", URL, nullable=False, unique=True),
    sa.Column("accepted", sa.Boolean, nullable=False, server_default=sa.false()),
    _created(),
    sa.UniqueConstraint("local_actor_id", "actor_id"),
)

# --- what we publish ---------------------------------------------------------------------------

posts = sa.Table(
    "posts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("public_id", sa.String(64), nullable=False, unique=True),
    sa.Column("author_id", sa.Integer, sa.ForeignKey("local_actors.id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # blog | report | offer | request
    sa.Column("title", sa.String(500), nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),  # Markdown as written
    sa.Column("content_html", sa.Text, nullable=False),  # rendered and sanitised
    sa.Column("hashtags", sa.Text, nullable=False, server_default="[]"),  # JSON list
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    # Bumped with every change to what the post's comment list shows, so each web process can
    # keep that list rendered and know, from the post row it reads anyway, when it is stale.
    sa.Column("comments_version", sa.Integer, nullable=False, server_default="0"),
    # Who may reply and quote (migration 0014): node/content/interaction_policy.py
    sa.Column("reply_policy", sa.String(16), nullable=False, server_default="anyone"),
    sa.Column("quote_policy", sa.String(16), nullable=False, server_default="followers"),
    # accounts the post mentions, as its Mention tags: JSON [{"href": actor id, "name": @a@b}]
    sa.Column("mentions", sa.Text, nullable=False, server_default="[]"),
    # The language it was written in (migration 0023): `contentMap` and the page's `lang`
    sa.Column("language", sa.String(16), nullable=True),
)

# Quotes of our posts we allowed (FEP-044f): each is a QuoteAuthorization at /quotes/<public_id>.
quote_authorizations = sa.Table(
    "quote_authorizations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("public_id", sa.String(64), nullable=False, unique=True),
    sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id"), nullable=False, index=True),
    sa.Column("quote_id", URL, nullable=False),  # the quoting post (interactingObject)
    sa.Column("actor_id", URL, nullable=False),  # who asked
    _created(),
    sa.UniqueConstraint("post_id", "quote_id"),
)

# Notes: every reply we know of, on our posts (comments) or written by our members.
notes = sa.Table(
    "notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("object_id", URL, nullable=False, unique=True),
    sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id"), nullable=True, index=True),
    sa.Column("in_reply_to", URL, nullable=False, index=True),
    sa.Column("author_id", URL, nullable=False, index=True),
    sa.Column("local_author_id", sa.Integer, sa.ForeignKey("local_actors.id"), nullable=True),
    sa.Column("host", sa.String(255), nullable=False, index=True),
    sa.Column("url", URL, nullable=True),
    sa.Column("content_html", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=True),  # content warning
    sa.Column("sensitive", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("public", sa.Boolean, nullable=False),  # addressed to the public collection
    # pending | approved | rejected | deleted; only `approved` and public is ever shown
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("document", sa.Text, nullable=True),  # the JSON we published, for our own notes
    _created(),
    # The conversation the reply said it belongs to (FEP-7888 `context`, migration 0014): how a
    # reply whose inReplyTo chain is broken still finds its post (node/content/conversations.py)
    sa.Column("context", URL, nullable=True, index=True),
    # The local members the note mentions (migration 0017): JSON list of actor ids, told once
    # the note is public (node/notifications/events.py)
    sa.Column("mentions", sa.Text, nullable=False, server_default="[]"),
    # The language of a remote reply, when its `contentMap` names exactly one (migration 0023)
    sa.Column("language", sa.String(16), nullable=True),
)

# Posts that arrive from accounts our members follow (and later, linked nodes).
remote_posts = sa.Table(
    "remote_posts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("object_id", URL, nullable=False, unique=True),
    sa.Column("actor_id", URL, nullable=False, index=True),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("document", sa.Text, nullable=False),  # JSON as received (content sanitised)
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
)

reactions = sa.Table(
    "reactions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("activity_id", URL, nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),  # Like | Announce
    sa.Column("object_id", URL, nullable=False, index=True),
    sa.Column("actor_id", URL, nullable=False),
    _created(),
)

# --- moderation --------------------------------------------------------------------------------

approved_authors = sa.Table(
    "approved_authors",
    metadata,
    sa.Column("actor_id", URL, primary_key=True),
    _created(),
)

blocks = sa.Table(
    "blocks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("target", URL, nullable=False, unique=True),  # a domain or an actor id
    sa.Column("kind", sa.String(8), nullable=False),  # domain | actor
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    _created(),
)

reports = sa.Table(
    "reports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("activity_id", URL, nullable=False, unique=True),
    sa.Column("actor_id", URL, nullable=False),
    sa.Column("content", sa.Text, nullable=False, server_default=""),
    sa.Column("object_ids", sa.Text, nullable=False),  # JSON list
    _created(),
    # when a moderator forwarded it to the reported server(s) (migration 0014)
    sa.Column("forwarded_at", sa.DateTime(timezone=True), nullable=True),
)

# --- inbound processing, the activity log, delivery -------------------------------------------

# Verified activities, stored before the 202; the worker processes them.
inbound = sa.Table(
    "inbound",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("activity_id", URL, nullable=False, unique=True),
    sa.Column("actor_id", URL, nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("recipient", sa.String(64), nullable=True),  # username of a personal inbox
    sa.Column("status", sa.String(16), nullable=False, index=True),  # queued | done | failed
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)

activity_log = sa.Table(
    "activity_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("direction", sa.String(8), nullable=False, index=True),  # inbound | delivery
    sa.Column("activity_id", URL, nullable=True, index=True),
    sa.Column("type", sa.String(32), nullable=True),
    sa.Column("actor_id", URL, nullable=True),
    sa.Column("host", sa.String(255), nullable=True, index=True),
    sa.Column("outcome", sa.String(32), nullable=False, index=True),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    _created(),
)

# One row per (activity, inbox); the unsigned body is stored and signed afresh per attempt.
deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("activity_id", URL, nullable=False, index=True),
    sa.Column("sender", sa.String(64), nullable=False),  # local actor username
    sa.Column("inbox_url", URL, nullable=False),
    sa.Column("host", sa.String(255), nullable=False, index=True),
    sa.Column("body", sa.Text, nullable=False),
    # pending | delivered | gave_up
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("claimed_by", sa.String(100), nullable=True),  # hostname:pid that last leased it
    sa.Column("last_status", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    _created(),
    sa.UniqueConstraint("activity_id", "inbox_url"),
    sa.Index("ix_deliveries_due", "status", "next_attempt_at"),
)

# Per-host health, so a host that keeps failing is paused rather than hammered.
hosts = sa.Table(
    "hosts",
    metadata,
    sa.Column("host", sa.String(255), primary_key=True),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
)

# Which HTTP signature scheme a host accepts, until expires_at (migration 0014): see
# node/federation/knocking.py.
signature_schemes = sa.Table(
    "signature_schemes",
    metadata,
    sa.Column("host", sa.String(255), primary_key=True),
    sa.Column("scheme", sa.String(16), nullable=False),  # rfc9421 | draft-cavage
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

# --- the web interface (migration 0005) --------------------------------------------------------

# Uploaded images live in the database so every process of a scaled-out node can serve them.
media = sa.Table(
    "media",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("public_id", sa.String(64), nullable=False, unique=True),
    sa.Column("owner_id", sa.Integer, sa.ForeignKey("local_actors.id"), nullable=False),
    sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id"), nullable=True, index=True),
    sa.Column("media_type", sa.String(64), nullable=False),
    sa.Column("alt", sa.Text, nullable=False),  # required: the picture described in words
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    _created(),
)

# Every moderation action, with who did it.
moderation_actions = sa.Table(
    "moderation_actions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("moderator_id", sa.Integer, sa.ForeignKey("local_actors.id"), nullable=False),
    sa.Column("action", sa.String(32), nullable=False, index=True),
    sa.Column("target", URL, nullable=False),  # a comment number, actor id or domain
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    _created(),
)

# Texts admins edit in the browser (the about page: rules and terms).
site_pages = sa.Table(
    "site_pages",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("source", sa.Text, nullable=False),  # Markdown
    sa.Column("content_html", sa.Text, nullable=False),
    sa.Column("updated_by", sa.Integer, sa.ForeignKey("local_actors.id"), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Failed sign-ins, counted per client address and per username to slow password guessing;
# in the database so every web process of a node sees the same count.
login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(300), nullable=False, index=True),
    _created(),
)


# --- the web interface, remaining parts (migration 0008) --------------------------------------

# Invitation links admins hand out: single-use, expiring. Only the token's SHA-256 is kept, so
# a copy of the database cannot be used to join.
invitations = sa.Table(
    "invitations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("local_actors.id"), nullable=False),
    sa.Column("note", sa.String(200), nullable=False, server_default=""),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("used_by", sa.Integer, sa.ForeignKey("local_actors.id"), nullable=True),
    _created(),
)

# How many times each post's page was loaded: a bare counter, no address, no cookie, no agent.
post_views = sa.Table(
    "post_views",
    metadata,
    sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id"), primary_key=True),
    sa.Column("views", sa.Integer, nullable=False, server_default="0"),
)


# --- give and take (offers and requests, FEP-0837) --------------------------------------------

# The terms of a post whose kind is offer or request; hours are stored as whole minutes.
offers = sa.Table(
    "offers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id"), nullable=False, unique=True),
    sa.Column("category", sa.String(32), nullable=True),
    sa.Column("minutes", sa.Integer, nullable=True),
    sa.Column("place", sa.String(200), nullable=True),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    # open | taken | fulfilled | withdrawn | expired
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
)

# A reply to an offer, or a FEP-0837 Offer(Agreement), kept as a note (so it is moderated like
# any comment) and related to the offer here.
offer_responses = sa.Table(
    "offer_responses",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("offer_id", sa.Integer, sa.ForeignKey("offers.id"), nullable=False, index=True),
    sa.Column("note_id", sa.Integer, sa.ForeignKey("notes.id"), nullable=False, unique=True),
    sa.Column("actor_id", URL, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # reply | agreement
    sa.Column("minutes", sa.Integer, nullable=True),  # what an Offer(Agreement) proposed
    _created(),
)

# Agreements we made (a match on one of our offers) or that our members were given by another
# node (an Accept of their response); `object_id` is the Agreement's ActivityPub id.
agreements = sa.Table(
    "agreements",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("object_id", URL, nullable=False, unique=True),
    sa.Column("offer_id", sa.Integer, sa.ForeignKey("offers.id"), nullable=True, index=True),
    sa.Column("response_id", sa.Integer, sa.ForeignKey("offer_responses.id"), nullable=True),
    sa.Column("proposal_id", URL, nullable=False),  # the offer's id; a move: the other account
    sa.Column("title", sa.String(500), nullable=False),
    sa.Column("proposer_id", URL, nullable=False),  # who accepted and confirms it
    sa.Column("provider_id", URL, nullable=False),  # who gives the hours
    sa.Column("receiver_id", URL, nullable=False),
    sa.Column("minutes", sa.Integer, nullable=True),  # as agreed, if an amount was
    sa.Column("status", sa.String(16), nullable=False),  # agreed | completed
    sa.Column("completed_minutes", sa.Integer, nullable=True),
    sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
    _created(),
)

# Double entry: a completed agreement writes +minutes for the provider and -minutes for the
# receiver together, once (the unique pair), so the ledger always sums to zero.
ledger_entries = sa.Table(
    "ledger_entries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("agreement_id", sa.Integer, sa.ForeignKey("agreements.id"), nullable=False),
    sa.Column("account_id", URL, nullable=False, index=True),  # actor id, local or remote
    sa.Column("local_actor_id", sa.Integer, sa.ForeignKey("local_actors.id"), nullable=True),
    sa.Column("minutes", sa.Integer, nullable=False),
    _created(),
    sa.UniqueConstraint("agreement_id", "account_id"),
)


# --- linked nodes (migration 0006) -------------------------------------------------------------

# One row per other node's Group actor we are linked to or asked to link with.
# state: requested (we asked, waiting for their admin) | pending (they asked, waiting for ours)
# | linked (both admins approved; each group follows the other).
links = sa.Table(
    "links",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("actor_id", URL, nullable=False, unique=True),  # their Group actor
    sa.Column("host", sa.String(255), nullable=False, index=True),
    sa.Column("name", sa.String(500), nullable=False, server_default=""),
    sa.Column("handle", sa.String(300), nullable=False, server_default=""),
    sa.Column("inbox_url", URL, nullable=False),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("our_follow_id", URL, nullable=True),
    sa.Column("their_follow_id", URL, nullable=True),
    sa.Column("trust_moderation", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("members", sa.Integer, nullable=True),  # from their NodeInfo
    sa.Column("reachable", sa.Boolean, nullable=True),  # at the last check; None: not checked
    sa.Column("last_heard_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
    _created(),
)

# Public posts, reports and offers that reached us through a link, kept with their origin.
linked_posts = sa.Table(
    "linked_posts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("object_id", URL, nullable=False, unique=True),
    sa.Column("origin_actor_id", URL, nullable=False, index=True),  # its author
    sa.Column("origin_host", sa.String(255), nullable=False, index=True),
    sa.Column("via_actor_id", URL, nullable=False),  # the linked Group that announced it
    sa.Column("type", sa.String(32), nullable=False),  # Article | Note
    sa.Column("kind", sa.String(16), nullable=False, index=True),  # post | offer | request
    sa.Column("document", sa.Text, nullable=False),  # JSON as fetched from origin (sanitised)
    # our Group passed it on (it came from its origin's own Group): listed in our outbox
    sa.Column("announced", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    # the object as its author signed it (FEP-8b32 proof intact), passed on verbatim (0020)
    sa.Column("signed_document", sa.Text, nullable=True),
)

# Posts accounts elsewhere addressed to our Group (FEP-1b12), announced by it once approved
# (0020). status: pending | approved | rejected | deleted
group_posts = sa.Table(
    "group_posts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("object_id", URL, nullable=False, unique=True),
    sa.Column("author_id", URL, nullable=False, index=True),
    sa.Column("host", sa.String(255), nullable=False, index=True),
    sa.Column("document", sa.Text, nullable=False),  # JSON as received (content sanitised)
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("announced_at", sa.DateTime(timezone=True), nullable=True),
    _created(),
)

# Replies that reached our inbox to an approved post to the Group (content sanitised), shown
# under it on /elsewhere; a reply's Delete removes its row.
group_post_replies = sa.Table(
    "group_post_replies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "group_post_id", sa.Integer, sa.ForeignKey("group_posts.id"), nullable=False, index=True
    ),
    sa.Column("object_id", URL, nullable=False, unique=True),
    sa.Column("author_id", URL, nullable=False, index=True),
    sa.Column("host", sa.String(255), nullable=False, index=True),
    sa.Column("document", sa.Text, nullable=False),  # JSON as received (content sanitised)
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    _created(),
)

# Domain blocks a trusted linked node decided, waiting for our admin (or applied at once when
# CONODE_LINK_BLOCKS=apply). status: suggested | applied | dismissed
block_suggestions = sa.Table(
    "block_suggestions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source_actor_id", URL, nullable=False),  # the linked Group that decided it
    sa.Column("target", URL, nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    _created(),
    sa.UniqueConstraint("source_actor_id", "target"),
)


# --- members' own space (migration 0012) ------------------------------------------------------

# Single-use links to choose a new password, made by an admin; only the token's SHA-256 is kept.
password_resets = sa.Table(
    "password_resets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("actor_row_id", sa.Integer, sa.ForeignKey("local_actors.id"), nullable=False),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("local_actors.id"), nullable=True),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    _created(),
)

# What a member sees on /notifications. The unique triple makes an activity that arrives twice
# (a retried delivery) notify once.
notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("recipient_id", sa.Integer, sa.ForeignKey("local_actors.id"), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("actor_id", URL, nullable=False, server_default=""),  # who did it
    sa.Column("url", URL, nullable=False),  # the thing itself
    sa.Column("text", sa.String(500), nullable=False, server_default=""),  # plain text
    _created(),
    sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),  # queued as mail
    sa.UniqueConstraint("recipient_id", "kind", "url"),
    sa.Index("ix_notifications_recipient_unread", "recipient_id", "read_at"),
)

# Mail waiting to go out through CONODE_SMTP_URL, worked by the worker like deliveries: a lease
# while one sends it (a worker killed mid-send leaves it to be sent again), retries with backoff.
# status: pending | sent | failed
mail_jobs = sa.Table(
    "mail_jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("recipient", sa.String(320), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("body_text", sa.Text, nullable=False),
    sa.Column("body_html", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_error", sa.Text, nullable=False, server_default=""),
    _created(),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("ix_mail_jobs_due", "status", "next_attempt_at"),
)

# Remote people's pictures, fetched once by the worker through the guarded client, checked and
# made small, so pages load nothing from other sites. `data` None: fetching failed or was
# refused (a placeholder shows); a changed `icon_url` is fetched again.
remote_avatars = sa.Table(
    "remote_avatars",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(32), nullable=False, unique=True),  # sha256 of actor_id
    sa.Column("actor_id", URL, nullable=False),
    sa.Column("source_url", URL, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=True),
    sa.Column("problem", sa.String(200), nullable=False, server_default=""),
    sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
)

# --- running processes (migration 0010) ---------------------------------------------------------

# One row per running `conode serve` or `conode worker` (name: hostname:pid), refreshed while it
# runs and removed when it stops: `conode restore` refuses while a row is fresh.
heartbeats = sa.Table(
    "heartbeats",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("process", sa.String(16), nullable=False),  # serve | worker
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("port", sa.Integer, nullable=True),  # what a serve listens on (migration 0022)
)

# --- the community's look (migration 0018) -----------------------------------------------------

# One row (id 1) once an admin has set any of it: the name shown instead of CONODE_NAME, the
# accent colour (#rrggbb) and the logo and header image (media public ids without the size
# suffix, node/content/identity.py). No row: the defaults.
site_identity = sa.Table(
    "site_identity",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("accent", sa.String(7), nullable=True),
    sa.Column("logo_id", sa.String(32), nullable=True),
    sa.Column("header_id", sa.String(32), nullable=True),
    sa.Column("updated_by", sa.Integer, sa.ForeignKey("local_actors.id"), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# The site's content version (migration 0016): one row ('site'), bumped by triggers on every
# write to a table a public page shows; whole cached pages are good for one version of it.
content_versions = sa.Table(
    "content_versions",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
)
