"""What signed-in members do in the browser: write and edit posts (Markdown, with a preview, an
image with alt text and, on reports, a document; offers and requests with their terms) and
comment on posts. Publishing and replying federate through node/content/publishing.py,
node/offers/proposals.py and node/content/replies.py, exactly as the CLI's commands do."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import cast

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from node.content import documents, html, interaction_policy, publishing, replies, uploads
from node.federation import following
from node.federation.actors import LocalActor
from node.offers import exchanges
from node.offers import proposals as offers
from node.offers.terms import KINDS as OFFER_KINDS
from node.offers.terms import OfferError
from node.storage import MediaRow, PostRow
from node.wording import WordedError

from .guards import for_members, for_members_form, text_field
from .i18n import N_
from .responses import error_page, node_of, render

KINDS = (
    ("report", N_("Report")),
    ("blog", N_("Blog post")),
    ("offer", N_("Offer")),
    ("request", N_("Request")),
)
TERMS = ("hours", "category", "place", "expires")  # an offer's or request's, as typed
REPLY_CHOICES = (
    ("anyone", N_("Anyone")),
    ("followers", N_("Followers of mine")),
    ("members", N_("Members of this node only")),
)
QUOTE_CHOICES = (
    ("followers", N_("Followers of mine")),
    ("anyone", N_("Anyone")),
    ("nobody", N_("Nobody")),
)


@dataclass(frozen=True)
class WriteForm:
    kind: str
    title: str
    summary: str
    body: str
    media: MediaRow | None = None
    document: MediaRow | None = None
    terms: offers.OfferDraft = field(default_factory=offers.OfferDraft)
    replies: str = interaction_policy.DEFAULT_REPLIES
    quotes: str = interaction_policy.DEFAULT_QUOTES
    language: str | None = None  # None: the member's own, else the node's


def _write_form(form: FormData) -> WriteForm:
    kind = text_field(form, "kind", 16)
    return WriteForm(
        kind=kind if kind in dict(KINDS) else "report",
        title=text_field(form, "title", 1000),
        summary=text_field(form, "summary", 2000),
        body=text_field(form, "body"),
        terms=offers.OfferDraft(**{name: text_field(form, name, 200) or None for name in TERMS}),
        replies=text_field(form, "replies", 16) or interaction_policy.DEFAULT_REPLIES,
        quotes=text_field(form, "quotes", 16) or interaction_policy.DEFAULT_QUOTES,
        language=text_field(form, "language", 16) or None,
    )


def _render_write(
    request: Request,
    draft: WriteForm,
    *,
    status: int = 200,
    post: PostRow | None = None,
    error: str | WordedError = "",
    preview: bool = False,
) -> Response:
    rendered = html.render_markdown(draft.body) if preview and draft.body.strip() else ""
    return render(
        request,
        "write.html",
        status_code=status,
        draft=draft,
        kinds=KINDS,
        reply_choices=REPLY_CHOICES,
        quote_choices=QUOTE_CHOICES,
        categories=node_of(request).settings.offer_categories,
        post=post,
        error=error,
        preview=rendered,
    )


@for_members
async def write_page(request: Request, member: LocalActor) -> Response:
    language = member.row.language or node_of(request).settings.language
    return _render_write(request, WriteForm("report", "", "", "", language=language))


async def _kept(request: Request, member: LocalActor, public_id: str) -> MediaRow | None:
    """A file uploaded with an earlier preview: only the member's own, not yet attached."""
    kept = await node_of(request).store.media(public_id) if public_id else None
    if kept is None or kept.owner_id != member.row.id or kept.post_id is not None:
        return None
    return kept


async def _uploaded_media(request: Request, member: LocalActor, form: FormData) -> MediaRow | None:
    """A new image, or the one kept from an earlier preview."""
    store = node_of(request).store
    upload = form.get("image")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(uploads.MAX_IMAGE_BYTES + 1)
        return await uploads.store_image(store, member.row.id, data, text_field(form, "alt", 5000))
    return await _kept(request, member, text_field(form, "media", 64))


async def _uploaded_document(
    request: Request, member: LocalActor, form: FormData, kind: str
) -> MediaRow | None:
    """A new document (reports only), or the one kept from an earlier preview."""
    upload = form.get("document")
    if isinstance(upload, UploadFile) and upload.filename:
        if kind != "report":
            raise uploads.UploadError("documents go with reports: choose Report")
        data = await upload.read(documents.MAX_DOCUMENT_BYTES + 1)
        name = text_field(form, "document_name", 1000)
        store = node_of(request).store
        return await documents.store_document(store, member.row.id, data, name, upload.filename)
    return await _kept(request, member, text_field(form, "document_media", 64))


@for_members_form
async def write(request: Request, member: LocalActor, form: FormData) -> Response:
    draft = _write_form(form)
    try:
        image = await _uploaded_media(request, member, form)
        document = await _uploaded_document(request, member, form, draft.kind)
    except uploads.UploadError as exc:
        return _render_write(request, draft, status=400, error=exc)
    draft = replace(draft, media=image, document=document)
    if draft.kind in OFFER_KINDS and (image or document):
        error = "images and documents go with reports and blog posts, not offers or requests"
        return _render_write(
            request, replace(draft, media=None, document=None), status=400, error=error
        )
    if form.get("action") == "preview":
        return _render_write(request, draft, preview=True)
    try:
        post = await _publish(request, member, draft)
    except (publishing.PublishError, OfferError) as exc:
        return _render_write(request, draft, status=400, error=exc)
    return RedirectResponse(f"/posts/{post.public_id}", status_code=303)


async def _publish(request: Request, member: LocalActor, draft: WriteForm) -> PostRow:
    media_ids = tuple(item.id for item in (draft.media, draft.document) if item)
    kind = cast(publishing.PostKind, draft.kind)  # one of KINDS: _write_form checked it
    text = publishing.Draft(
        kind, draft.title, draft.body, draft.summary or None, media_ids, language=draft.language
    )
    text = replace(text, replies=draft.replies, quotes=draft.quotes)
    if kind in OFFER_KINDS:
        return await offers.create_offer(node_of(request), member, text, draft.terms)
    return await publishing.create_post(node_of(request), member, text)


async def _own_post(request: Request, member: LocalActor) -> PostRow | Response:
    post = await node_of(request).store.post(request.path_params["public_id"])
    if post is None or post.deleted_at is not None:
        return error_page(request, 404, "No such post.")
    if post.author_id != member.row.id and not (member.row.is_moderator or member.row.is_admin):
        return error_page(request, 403, "Only its author or a moderator can change a post.")
    return post


@for_members_form
async def delete(request: Request, member: LocalActor, form: FormData) -> Response:
    """The author, or a moderator, deletes a post from its page; a moderator's deletion of
    someone else's post is in the moderation log."""
    post = await _own_post(request, member)
    if isinstance(post, Response):
        return post
    node = node_of(request)
    await publishing.delete_post(node, post)
    if post.author_id != member.row.id:
        target = publishing.post_id(node, post)
        await node.store.record_moderation(member.row.id, "delete_post", target, post.title)
    return RedirectResponse("/", status_code=303)


@for_members
async def edit_page(request: Request, member: LocalActor) -> Response:
    post = await _own_post(request, member)
    if isinstance(post, Response):
        return post
    draft = WriteForm(post.kind, post.title, post.summary, post.source)
    return _render_write(request, draft, post=post)


@for_members_form
async def edit(request: Request, member: LocalActor, form: FormData) -> Response:
    post = await _own_post(request, member)
    if isinstance(post, Response):
        return post
    fields = _write_form(form)
    draft = WriteForm(post.kind, fields.title, fields.summary, fields.body)
    if form.get("action") == "preview":
        return _render_write(request, draft, post=post, preview=True)
    node = node_of(request)
    edit = offers.edit_offer if post.kind in OFFER_KINDS else publishing.edit_post
    try:
        await edit(node, post, title=draft.title, body=draft.body, summary=draft.summary or None)
    except (publishing.PublishError, OfferError) as exc:
        return _render_write(request, draft, status=400, post=post, error=exc)
    return RedirectResponse(f"/posts/{post.public_id}", status_code=303)


@for_members_form
async def comment(request: Request, member: LocalActor, form: FormData) -> Response:
    node = node_of(request)
    post = await node.store.post(request.path_params["public_id"])
    if post is None or post.deleted_at is not None:
        return error_page(request, 404, "No such post.")
    target = publishing.post_id(node, post)
    parent = await node.store.note(text_field(form, "in_reply_to", 2048))
    if parent is not None and parent.post_id == post.id and parent.status == "approved":
        target = parent.object_id
    try:
        body = text_field(form, "body", 20_000)
        note = await replies.reply(node, member, target, body, on_stored=exchanges.record_reply)
    except following.FollowingError as exc:
        return error_page(request, 400, str(exc))
    return RedirectResponse(f"/posts/{post.public_id}#comment-{note.id}", status_code=303)
