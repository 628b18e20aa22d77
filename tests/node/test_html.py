"""node.html: remote HTML made safe, members' Markdown rendered, hashtags and plain text."""

from __future__ import annotations

import re

import pytest

from node.content.html import (
    ALLOWED_TAGS,
    POST_ALLOWED_TAGS,
    hashtags,
    plain_text,
    render_markdown,
    sanitize_comment,
    summary_from_markdown,
)

# A reply as Mastodon sends it (app/lib/text_formatter.rb output).
MASTODON_REPLY = (
    '<p><span class="h-card" translate="no"><a href="https://mastodon.example/@ben" '
    'class="u-url mention">@<span>ben</span></a></span> Thanks for the report!</p>'
)
MASTODON_LINK = (
    '<a href="https://example.org/a/very/long/path" target="_blank" '
    'rel="nofollow noopener noreferrer" translate="no"><span class="invisible">https://</span>'
    '<span class="ellipsis">example.org/a/very/</span><span class="invisible">long/path</span></a>'
)
MASTODON_HASHTAG = (
    '<a href="https://mastodon.example/tags/gardening" class="mention hashtag" rel="tag">'
    "#<span>gardening</span></a>"
)


def _tags_in(fragment: str) -> set[str]:
    return {name.lower() for name in re.findall(r"<\s*([a-zA-Z][a-zA-Z0-9]*)", fragment)}


def _assert_inert(fragment: str) -> None:
    lowered = fragment.lower()
    for needle in ("<script", "javascript:", "onerror", "onload", "onclick", "style=", "data:"):
        assert needle not in lowered, f"{needle!r} survived in {fragment!r}"


# --- sanitize_comment: XSS ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<a href="&#106;avascript:alert(1)">x</a>',
        '<a href="&#x6A;avascript&#58;alert(1)">x</a>',
        '<a href="java&#x09;script:alert(1)">x</a>',
        '<a href=" javascript:alert(1)">x</a>',
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)><circle r=1 /></svg>",
        '<p style="background:url(javascript:alert(1))" onclick="alert(1)">x</p>',
        '<iframe src="https://evil.example/"></iframe>',
        '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
        '<object data="https://evil.example/x.swf"></object>',
        '<form action="https://evil.example/"><input name=q><button>go</button></form>',
        '<span onmouseover="alert(1)">hover</span>',
    ],
)
def test_sanitize_comment_neutralises_xss_vectors(attack: str) -> None:
    cleaned = sanitize_comment(f"<p>before {attack} after</p>")

    _assert_inert(cleaned)
    assert _tags_in(cleaned) <= ALLOWED_TAGS
    assert "before" in cleaned and "after" in cleaned


def test_sanitize_comment_survives_mutation_xss_through_foreign_content() -> None:
    # The DOMPurify-era mXSS: <style> inside MathML is not raw text, so a naive sanitiser's
    # serialisation re-parses into a live <img onerror>.
    attack = "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></math>"

    cleaned = sanitize_comment(f"<p>before {attack} after</p>")

    _assert_inert(cleaned)
    assert _tags_in(cleaned) <= ALLOWED_TAGS
    assert sanitize_comment(cleaned) == cleaned  # stable when cleaned again


def test_sanitize_comment_drops_script_and_style_with_their_content() -> None:
    cleaned = sanitize_comment("<p>kept</p><script>steal()</script><style>p{color:red}</style>")

    assert cleaned == "<p>kept</p>"


def test_sanitize_comment_strips_html_comments() -> None:
    assert sanitize_comment("<p>a<!-- <script>x</script> -->b</p>") == "<p>ab</p>"


def test_sanitize_comment_removes_disallowed_tags_but_keeps_their_text() -> None:
    cleaned = sanitize_comment("<h1>Big</h1><div><table><tr><td>cell</td></tr></table></div>")

    assert _tags_in(cleaned) == set()
    assert "Big" in cleaned and "cell" in cleaned


def test_sanitize_comment_keeps_mastodon_formatting_tags() -> None:
    fragment = (
        "<p><strong>s</strong> <em>e</em> <b>b</b> <i>i</i> <u>u</u> <del>d</del> <code>c</code>"
        "<br></p><pre><code>x</code></pre><blockquote><p>q</p></blockquote>"
        "<ul><li>one</li></ul><ol><li>two</li></ol>"
    )

    assert sanitize_comment(fragment) == fragment


def test_sanitize_comment_drops_relative_links() -> None:
    # On our pages a relative link would point at us, not at the server that wrote it.
    cleaned = sanitize_comment('<a href="/admin/delete">x</a><a href="//evil.example/">y</a>')

    assert "href" not in cleaned


def test_sanitize_comment_allows_only_http_https_and_mailto_links() -> None:
    cleaned = sanitize_comment(
        '<a href="https://a.example/">a</a><a href="http://b.example/">b</a>'
        '<a href="mailto:c@c.example">c</a><a href="ftp://d.example/">d</a>'
        '<a href="tel:+4412345">e</a>'
    )

    assert re.findall(r'href="([^"]*)"', cleaned) == [
        "https://a.example/",
        "http://b.example/",
        "mailto:c@c.example",
    ]


# --- sanitize_comment: Mastodon's real HTML ----------------------------------------------------


def test_sanitize_comment_keeps_mastodon_mention_and_adds_rel() -> None:
    cleaned = sanitize_comment(MASTODON_REPLY)

    assert cleaned == (
        '<p><span class="h-card"><a href="https://mastodon.example/@ben" class="u-url mention" '
        'rel="nofollow noopener noreferrer ugc">@<span>ben</span></a></span> '
        "Thanks for the report!</p>"
    )


def test_sanitize_comment_rel_includes_what_protocol_requires() -> None:
    rel = re.search(r'rel="([^"]*)"', sanitize_comment(MASTODON_REPLY))

    assert rel is not None
    assert {"nofollow", "noopener", "ugc"} <= set(rel.group(1).split())


def test_sanitize_comment_overrides_the_senders_rel_and_target() -> None:
    cleaned = sanitize_comment('<a href="https://a.example/" rel="opener me" target="_top">a</a>')

    assert 'rel="nofollow noopener noreferrer ugc"' in cleaned
    assert "opener me" not in cleaned and "target" not in cleaned


def test_sanitize_comment_keeps_mastodon_shortened_link_classes() -> None:
    cleaned = sanitize_comment(MASTODON_LINK)

    assert '<span class="invisible">https://</span>' in cleaned
    assert '<span class="ellipsis">example.org/a/very/</span>' in cleaned
    assert 'href="https://example.org/a/very/long/path"' in cleaned


def test_sanitize_comment_keeps_mastodon_hashtag_link() -> None:
    cleaned = sanitize_comment(MASTODON_HASHTAG)

    assert 'class="mention hashtag"' in cleaned
    assert "#<span>gardening</span>" in cleaned


def test_sanitize_comment_strips_classes_outside_the_microformat_set() -> None:
    cleaned = sanitize_comment(
        '<span class="h-card fixed-overlay">x</span>'
        '<a href="https://a.example/" class="mention btn-primary">y</a>'
        '<p class="invisible">z</p>'
    )

    assert 'class="h-card"' in cleaned
    assert 'class="mention"' in cleaned
    assert "fixed-overlay" not in cleaned and "btn-primary" not in cleaned
    assert "<p>z</p>" in cleaned  # classes are allowed on span and a only


def test_sanitize_comment_drops_unlisted_attributes() -> None:
    cleaned = sanitize_comment(
        '<span id="x" title="t" translate="no" data-x="1" lang="en">a</span>'
    )

    assert cleaned == "<span>a</span>"


# --- render_markdown ---------------------------------------------------------------------------


def test_render_markdown_renders_emphasis_and_strikethrough_as_mastodon_tags() -> None:
    rendered = render_markdown("*soft* **loud** ~~gone~~ `code`")

    assert rendered.strip() == (
        "<p><em>soft</em> <strong>loud</strong> <del>gone</del> <code>code</code></p>"
    )


def test_render_markdown_clamps_headings_into_h2_to_h4() -> None:
    rendered = render_markdown("# One\n\n## Two\n\n### Three\n\n#### Four\n\n###### Six")

    assert re.findall(r"<(h\d)>", rendered) == ["h2", "h2", "h3", "h4", "h4"]
    assert "One" in rendered and "Six" in rendered


def test_render_markdown_renders_lists_and_quotes() -> None:
    rendered = render_markdown("- apples\n- pears\n\n1. first\n2. second\n\n> quoted")

    assert "<ul>\n<li>apples</li>\n<li>pears</li>\n</ul>" in rendered
    assert "<ol>\n<li>first</li>\n<li>second</li>\n</ol>" in rendered
    assert "<blockquote>\n<p>quoted</p>\n</blockquote>" in rendered


def test_render_markdown_renders_links_with_rel() -> None:
    rendered = render_markdown('[the report](https://conode.example/r/1 "Report") <https://x.org>')

    assert (
        '<a href="https://conode.example/r/1" title="Report" rel="noopener noreferrer">'
        "the report</a>"
    ) in rendered
    assert '<a href="https://x.org" rel="noopener noreferrer">https://x.org</a>' in rendered


def test_render_markdown_renders_code_blocks_escaped_and_without_classes() -> None:
    rendered = render_markdown("```python\nif a < b:\n    print('<b>')\n```\n\n    indented")

    assert "<pre><code>if a &lt; b:\n    print('&lt;b&gt;')\n</code></pre>" in rendered
    assert "<pre><code>indented\n</code></pre>" in rendered
    assert "class=" not in rendered


def test_render_markdown_escapes_raw_html() -> None:
    rendered = render_markdown(
        'Hi <script>alert(1)</script> <b onclick="x()">bold</b>\n\n<div>block</div>'
    )

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    assert "&lt;b onclick" in rendered
    assert "&lt;div&gt;block&lt;/div&gt;" in rendered
    assert _tags_in(rendered) == {"p"}


@pytest.mark.parametrize(
    "markdown",
    [
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "<javascript:alert(1)>",
        "![x](javascript:alert(1))",
        "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
        "[x](vbscript:msgbox(1))",
    ],
)
def test_render_markdown_never_links_dangerous_urls(markdown: str) -> None:
    rendered = render_markdown(markdown)

    # The Markdown may stay as text; it must not become an attribute.
    assert re.findall(r'(?:href|src)="([^"]*)"', rendered) == []
    assert _tags_in(rendered) <= {"p", "a", "img"}


def test_render_markdown_keeps_http_images_with_alt_and_title() -> None:
    rendered = render_markdown('![A red kettle](https://img.example/k.png "Kettle")')

    assert '<img src="https://img.example/k.png" alt="A red kettle" title="Kettle">' in rendered


def test_render_markdown_drops_non_http_image_sources() -> None:
    rendered = render_markdown("![a](data:image/png;base64,AAAA) ![b](/local.png)")

    assert "src=" not in rendered
    assert 'alt="a"' in rendered and 'alt="b"' in rendered


def test_render_markdown_drops_relative_links_but_keeps_text() -> None:
    rendered = render_markdown("[about](/about) and [mail](mailto:hi@conode.example)")

    assert "<a rel=" in rendered and "about</a>" in rendered
    assert 'href="/about"' not in rendered
    assert 'href="mailto:hi@conode.example"' in rendered


def test_render_markdown_output_stays_within_the_post_allowlist() -> None:
    source = (
        "# H\n\n---\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n![i](https://i.example/x.png)\n\n"
        "- [ ] task\n\n***bold italic*** line  \nbreak"
    )

    assert _tags_in(render_markdown(source)) <= POST_ALLOWED_TAGS


# --- hashtags ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Seeds to share #gardening", ["gardening"]),
        ("#CareWork first, then #gardening.", ["CareWork", "gardening"]),
        ("#Gardening and #gardening and #GARDENING", ["Gardening"]),
        ("Café #café and #Straße and #日本語 and #हिन्दी", ["café", "Straße", "日本語", "हिन्दी"]),
        ("Issue #1 and #2024 are numbers, #1st is not", ["1st"]),
        ("##double is not a tag", []),
        ("See http://x.example/#frag and https://x.example/page#section", []),
        ("Read [the notes](#notes) and [more](https://a.example/#top)", []),
        ("Use `#include` or\n\n```\n#define X\n```\n\nthen #cpp", ["cpp"]),
        ("word#glued is not a tag, (#paren) is", ["paren"]),
        ("An entity &#x27; or &#39; is not a tag", []),
        ("tag_with_underscore: #slow_food!", ["slow_food"]),
        ("trailing middle dot #tea· stays out", ["tea"]),
        ("# Heading is not a tag\n\n#Heading is", ["Heading"]),
        ("", []),
    ],
)
def test_hashtags_extracts_tags_like_mastodon(text: str, expected: list[str]) -> None:
    assert hashtags(text) == expected


# --- plain_text and summaries ------------------------------------------------------------------


def test_plain_text_strips_tags_and_decodes_entities() -> None:
    assert plain_text("<p>Tea &amp; <b>cake</b> &lt;3</p>") == "Tea & cake <3"


def test_plain_text_separates_blocks_and_collapses_whitespace() -> None:
    fragment = "<h2>Title</h2><p>one\n\n  two</p><p>three<br>four</p><ul><li>a</li><li>b</li></ul>"

    assert plain_text(fragment) == "Title one two three four a b"


def test_plain_text_drops_script_and_style_content() -> None:
    assert plain_text("<p>ok</p><script>var x = 1;</script><style>p{}</style>") == "ok"


def test_plain_text_leaves_short_text_alone() -> None:
    assert plain_text("<p>short</p>", limit=5) == "short"


def test_plain_text_truncates_at_a_word_boundary_with_ellipsis() -> None:
    text = "<p>The quick brown fox jumps over the lazy dog</p>"

    assert plain_text(text, limit=20) == "The quick brown fox…"
    assert plain_text(text, limit=18) == "The quick brown…"


def test_plain_text_truncation_never_exceeds_the_limit() -> None:
    text = "<p>" + " ".join(["word"] * 50) + "</p>"

    for limit in range(1, 60):
        assert len(plain_text(text, limit=limit)) <= limit


def test_plain_text_truncation_drops_trailing_punctuation() -> None:
    assert plain_text("<p>Hello, world and everyone</p>", limit=10) == "Hello…"


def test_plain_text_cuts_a_single_long_word() -> None:
    assert plain_text("<p>Supercalifragilistic</p>", limit=6) == "Super…"


def test_summary_from_markdown_uses_the_first_paragraph() -> None:
    markdown = "# Broken swing\n\nThe **swing** in [the park](https://p.example) snapped.\n\nMore."

    assert summary_from_markdown(markdown) == "The swing in the park snapped."


def test_summary_from_markdown_truncates() -> None:
    markdown = "Volunteers needed for the Saturday litter pick in the park by the river."

    summary = summary_from_markdown(markdown, limit=30)

    assert summary == "Volunteers needed for the…"
    assert len(summary) <= 30


def test_summary_from_markdown_without_a_paragraph_uses_the_whole_text() -> None:
    assert summary_from_markdown("- spades\n- seeds") == "spades seeds"


def test_summary_from_markdown_is_plain_text_so_raw_html_comes_back_literally() -> None:
    # Not HTML: whoever puts it into a page or an AS2 `summary` (HTML) must escape it.
    summary = summary_from_markdown("<script>alert(1)</script> *hi* <b>x</b>")

    assert summary == "<script>alert(1)</script> hi <b>x</b>"
