"""`conode demo`: sample members, a report with a picture, blog posts, offers and requests, and
comments (some local, some as if from other servers, one waiting in the moderation queue), so a
newcomer sees a living site. Only an empty node is filled: demo content never mixes with a
community's own.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta

from PIL import Image, ImageDraw

from node.content import publishing, replies, uploads
from node.context import Node
from node.federation.actors import LocalActor, create_actor, local_actor
from node.offers import proposals as offers
from node.storage import NoteRow, PostRow, utcnow

MEMBERS = (
    ("rosa", "Rosa Martín", "Coordinates the Riverside repair café."),
    ("tom", "Tom Okafor", "Gardener; swaps seedlings for bike repairs."),
    ("lena", "Lena Weiß", "Writes the monthly newsletter."),
)
REPORT = """On Saturday twenty-three neighbours cleared the canal path between the lock and the
footbridge. We filled **forty bags** with litter and found two bicycles and a shopping trolley.

- 6 hours of work, shared by 23 people
- the council collected everything on Monday

Thanks to the repair café for the tea. Next clean-up: first Saturday of next month. #CanalCleanUp"""
BLOGS = (
    ("Why we keep time, not money", "An hour of gardening is worth an hour of accounting. "
     "That is the whole idea of a timebank, and after two years it still surprises people."),
    ("Seed swap this spring", "Bring seeds, take seeds. Tom has tomato seedlings to spare; "
     "Lena is looking for someone to help set up the tables. #SeedSwap"),
)  # fmt: skip
# (author index, kind, title, text, hours, category, place)
OFFERS: tuple[tuple[int, publishing.PostKind, str, str, str, str, str | None], ...] = (
    (1, "offer", "Bike repairs", "Punctures, brakes, gears: bring your bike to the shed.",
     "1", "DIY", "The community shed"),
    (0, "offer", "Help with forms and letters", "Benefits, council, landlords: I read and write "
     "them with you.", "1.5", "admin", None),
    (2, "request", "A lift to the seed swap", "I have three crates of seedlings to carry.",
     "1", "lifts", "Riverside"),
)  # fmt: skip
# (server, user, text, status): replies as they arrive from other servers.
REMOTE_COMMENTS = (
    ("mastodon.example", "kim", "Great work! Can I join next time with my kids?", "approved"),
    ("social.example", "ade", "The photo of the trolley made my day.", "approved"),
    ("mastodon.example", "sam", "Is the path accessible by wheelchair now?", "pending"),
)


class DemoError(Exception):
    """The node is not empty; the demo leaves real content alone."""


@dataclass(frozen=True)
class DemoResult:
    members: list[str]
    posts: list[str]
    comments: int


def _picture() -> bytes:
    image = Image.new("RGB", (640, 360), (46, 110, 70))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 240, 640, 360), fill=(40, 80, 140))  # the canal
    for x in range(60, 600, 90):
        draw.ellipse((x, 190, x + 50, 240), fill=(20, 20, 20))  # the bags
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def _members(node: Node) -> list[LocalActor]:
    members = []
    for username, name, summary in MEMBERS:
        row = await node.store.local_actor(username)
        if row is None:
            row = await create_actor(
                node.store,
                node.secret,
                username=username,
                kind="Person",
                display_name=name,
                summary=summary,
            )
        members.append(local_actor(node.settings, row))
    return members


async def _remote_comment(node: Node, post: PostRow, index: int, comment: tuple[str, ...]) -> None:
    host, user, text, status = comment
    now = utcnow() - timedelta(minutes=30 - index)
    actor_id = f"https://{host}/users/{user}"
    note = NoteRow(
        object_id=f"{actor_id}/statuses/demo-{index}",
        post_id=post.id,
        in_reply_to=publishing.post_id(node, post),
        author_id=actor_id,
        local_author_id=None,
        host=host,
        url=f"https://{host}/@{user}/demo-{index}",
        content_html=f"<p>{text}</p>",
        summary=None,
        sensitive=False,
        public=True,
        status=status,
        published_at=now,
        created_at=now,
    )
    await node.store.insert_note(note)


async def fill(node: Node) -> DemoResult:
    if await node.store.count_posts() > 0:
        raise DemoError("this node already has posts; `conode demo` only fills an empty node")
    rosa, tom, lena = await _members(node)
    image = await uploads.store_image(
        node.store, rosa.row.id, _picture(), "Volunteers' litter bags lined up by the canal"
    )
    report = await publishing.create_post(
        node,
        rosa,
        publishing.Draft("report", "Spring clean-up on the canal path", REPORT, None, (image.id,)),
    )
    posts = [report]
    for author, (title, body) in zip((lena, tom), BLOGS, strict=True):
        posts.append(
            await publishing.create_post(node, author, publishing.Draft("blog", title, body))
        )
    members = (rosa, tom, lena)
    for who, kind, title, body, hours, category, place in OFFERS:
        terms = offers.OfferDraft(category=category, hours=hours, place=place)
        draft = publishing.Draft(kind, title, body)
        posts.append(await offers.create_offer(node, members[who], draft, terms))
    for index, comment in enumerate(REMOTE_COMMENTS):
        await _remote_comment(node, report, index, comment)
    # Local replies only: replying to the made-up remote comments would try to reach their
    # servers. Tom answers Rosa, so the thread shows nesting.
    report_id = publishing.post_id(node, report)
    rosa_note = await replies.reply(node, rosa, report_id, "Next time we start at 10 at the lock.")
    await replies.reply(node, tom, rosa_note.object_id, "I'll bring gloves for everyone.")
    return DemoResult(
        members=[m.handle for m in (rosa, tom, lena)],
        posts=[publishing.post_id(node, post) for post in posts],
        comments=len(REMOTE_COMMENTS) + 2,
    )
