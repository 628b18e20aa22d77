"""Script arriving through the inbox stays inert on every page: the classic XSS vectors go in
as a remote comment's content and content warning, the commenter's display name, username and
profile link, a reply's `url` and a report's text; the browser's DOM is then checked."""

from __future__ import annotations

from typing import Any

from .conftest import Peer, Served
from .test_web_flow import sign_in

MARK = "window.__xss = (window.__xss || 0) + 1"
VECTORS = [
    f"<script>{MARK}</script>",
    f'<img src="x" onerror="{MARK}">',
    f'<svg onload="{MARK}"></svg>',
    f'<a href="javascript:{MARK}">click me</a>',
    f'<a href="data:text/html,<script>{MARK}</script>">data link</a>',
    f'<iframe srcdoc="<script>parent.{MARK}</script>"></iframe>',
    f'<p style="background:url(\'javascript:{MARK}\')" onmouseover="{MARK}">hover</p>',
    f'"><script>{MARK}</script>',
    f'<details open ontoggle="{MARK}">x</details>',
    f'<form action="javascript:{MARK}"><button>go</button></form>',
]

# What the DOM must not hold once a page has loaded: the pages carry no script of their own.
DOM_CHECK = """() => {
  const found = [];
  if (window.__xss) found.push('script ran: ' + window.__xss);
  if (document.scripts.length) found.push(document.scripts.length + ' script elements');
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const value = attr.value.trim().toLowerCase();
      if (attr.name.startsWith('on')) found.push(el.tagName + ' ' + attr.name);
      if (['href', 'src', 'action', 'formaction', 'srcdoc'].includes(attr.name)
          && (value.startsWith('javascript:') || value.startsWith('data:')
              || attr.name === 'srcdoc')) found.push(el.tagName + ' ' + attr.name + '=' + value);
    }
  }
  for (const tag of ['iframe', 'object', 'embed']) {
    if (document.querySelector(tag)) found.push(tag + ' element');
  }
  // the only SVG a page holds is its own drawings and icons, never inside what people wrote
  for (const svg of document.querySelectorAll('svg')) {
    const ours = svg.matches('svg.picture, svg.icon') && !svg.closest('.content');
    if (!ours) found.push('svg element');
  }
  return found;
}"""


def _hostile_reply(peer: Peer, post_url: str) -> dict[str, Any]:
    reply = peer.server.reply("mallory", post_url, " ".join(VECTORS))
    note = reply["object"]
    note["summary"] = f"<script>{MARK}</script> content warning"
    note["url"] = f"javascript:{MARK}"
    peer.server.objects[note["id"]] = {**peer.server.objects[note["id"]], **note}
    return reply


def test_script_from_the_inbox_is_inert_on_every_page(
    served: Served, peer: Peer, browser: Any
) -> None:
    # Given a post, and a hostile commenter whose profile is itself an attack
    post_url = served.conode(
        "post", "create", "ben", "--kind", "report", "--title", "Canal", "--body", "Clean"
    ).strip()
    peer.server.add_user("mallory")
    peer.profiles["mallory"] = {
        "name": f'<img src=x onerror="{MARK}">Mallory',
        "preferredUsername": f"mallory<script>{MARK}</script>",
        "url": f"javascript:{MARK}",
        "summary": f"<script>{MARK}</script>",
    }
    # When the comment arrives, a report (Flag) too, and a moderator publishes the comment
    assert peer.send("mallory", _hostile_reply(peer, post_url), f"{served.url}/inbox") == 202
    flag = peer.server.simple("mallory", "Flag", [post_url])
    flag["content"] = VECTORS[0] + VECTORS[1]
    assert peer.send("mallory", flag, f"{served.url}/inbox") == 202
    comment = served.wait_for_comment("pending", "click me")
    served.conode("comments", "approve", str(comment["id"]))

    # Then no page lets any of it run, for visitors or for the moderator
    dialogs: list[str] = []
    context = browser.new_context()
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    pages = [post_url, f"{served.url}/", f"{served.url}/about", f"{served.url}/feed.atom"]
    for url in pages[:3]:
        page.goto(url)
        assert page.evaluate(DOM_CHECK) == [], url
    page.goto(post_url)  # the comment is shown, as text
    assert "click me" in (page.locator(".comments").text_content() or "")  # behind its CW
    assert "onerror" in page.locator(".comments .who").inner_text()  # the name, escaped
    sign_in(page, served.url, "mia")
    for path in ["/moderation?status=approved", "/moderation/reports", "/moderation/log"]:
        page.goto(served.url + path)
        assert page.evaluate(DOM_CHECK) == [], path
    assert dialogs == []
    context.close()


def test_script_from_the_inbox_is_inert_on_the_offer_and_account_pages(
    served: Served, peer: Peer, browser: Any
) -> None:
    # Given an offer, and a hostile reply to it (a response its author sees to match)
    offer_url = served.conode(
        "post", "create", "ben", "--kind", "offer", "--title", "Weeding", "--body", "Two hours"
    ).strip()
    peer.server.add_user("mallory")
    peer.profiles["mallory"] = {"name": f'<img src=x onerror="{MARK}">Mallory'}
    assert peer.send("mallory", _hostile_reply(peer, offer_url), f"{served.url}/inbox") == 202
    served.wait_for_comment("pending", "click me")
    dialogs: list[str] = []
    context = browser.new_context()
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for path in ["/offers", "/badge", "/", offer_url.removeprefix(served.url)]:
        page.goto(served.url + path)
        assert page.evaluate(DOM_CHECK) == [], path
    # Then its author, managing the offer, sees the response as text only
    sign_in(page, served.url, "ben")
    page.goto(offer_url)
    assert "click me" in page.locator("#manage").inner_text()
    assert page.evaluate(DOM_CHECK) == []
    context.close()
    admin = browser.new_context()
    page = admin.new_page()
    sign_in(page, served.url, "mia")
    page.goto(f"{served.url}/admin/members")
    assert page.evaluate(DOM_CHECK) == []
    assert dialogs == []
    admin.close()
