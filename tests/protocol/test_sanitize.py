"""Sanitising HTML: Mastodon's 4.2+ allowlist, our rich superset, plain text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.sanitize import (
    LINK_REL,
    LINK_SCHEMES,
    html_to_text,
    sanitize_html,
    sanitize_rich_html,
)

REL = 'rel="nofollow noopener noreferrer"'

MASTODON_ELEMENTS = {
    "p": set(),
    "br": set(),
    "span": {"class"},
    "a": {"href", "rel", "class"},
    "del": set(),
    "pre": set(),
    "code": set(),
    "em": set(),
    "strong": set(),
    "b": set(),
    "i": set(),
    "u": set(),
    "ul": set(),
    "ol": {"start", "reversed"},
    "li": {"value"},
    "blockquote": set(),
}
RICH_ELEMENTS = MASTODON_ELEMENTS | {
    "h2": set(),
    "h3": set(),
    "h4": set(),
    "hr": set(),
    "table": set(),
    "thead": set(),
    "tbody": set(),
    "tfoot": set(),
    "tr": set(),
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
}


class _Tags(HTMLParser):
    """Every start tag and its attributes, as a browser-like parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(fragment: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(fragment)
    parser.close()
    return parser.tags


def assert_inert(output: str, allowed: dict[str, set[str]]) -> None:
    """Only allowlisted elements and attributes; no script, handler or javascript: URL."""
    assert "<script" not in output.lower()
    for tag, attrs in tags_of(output):
        assert tag in allowed, tag
        assert set(attrs) <= allowed[tag], (tag, attrs)
        assert not any(name.startswith("on") for name in attrs)
        for value in attrs.values():
            assert "javascript:" not in (value or "").lower()
        if tag == "a":
            href = attrs.get("href") or ""
            assert re.match(r"[a-z][a-z0-9+.-]*:", href)
            assert href.split(":", 1)[0].lower() in LINK_SCHEMES
            assert attrs["rel"] == LINK_REL


# -- what Mastodon keeps ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("<p>Hello <b>co</b>-<i>op</i></p>", "<p>Hello <b>co</b>-<i>op</i></p>"),
        (
            "<p><em>a</em><strong>b</strong><u>c</u><del>d</del><code>e</code><br>f</p>",
            "<p><em>a</em><strong>b</strong><u>c</u><del>d</del><code>e</code><br>f</p>",
        ),
        ("<blockquote><p>q</p></blockquote>", "<blockquote><p>q</p></blockquote>"),
        ("<pre><code>x = 1\n</code></pre>", "<pre><code>x = 1\n</code></pre>"),
        (
            '<ol start="3" reversed><li value="7">x</li></ol><ul><li>y</li></ul>',
            '<ol start="3" reversed=""><li value="7">x</li></ol><ul><li>y</li></ul>',
        ),
        (
            '<span class="h-card"><a href="https://c.example/@a" class="u-url mention">'
            "@a</a></span>",
            f'<span class="h-card"><a href="https://c.example/@a" class="u-url mention" {REL}>'
            "@a</a></span>",
        ),
        (
            '<a href="https://c.example/tags/care" class="mention hashtag" rel="tag">#care</a>',
            f'<a href="https://c.example/tags/care" class="mention hashtag" {REL}>#care</a>',
        ),
        (
            '<span class="invisible">https://</span><span class="ellipsis">c.example</span>',
            '<span class="invisible">https://</span><span class="ellipsis">c.example</span>',
        ),
    ],
)
def test_mastodon_elements_survive(source: str, expected: str) -> None:
    assert sanitize_html(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("<h1>Title</h1><p>x</p>", "<p><strong>Title</strong></p><p>x</p>"),
        ("<h3 id='a' class='p-name'>Sub</h3>", "<p><strong>Sub</strong></p>"),
        ("<h6>six</h6>", "<p><strong>six</strong></p>"),
        (
            "<ul><li><h2>in a list</h2></li></ul>",
            "<ul><li><p><strong>in a list</strong></p></li></ul>",
        ),
    ],
)
def test_headings_become_bold_paragraphs(source: str, expected: str) -> None:
    assert sanitize_html(source) == expected


def test_other_elements_are_unwrapped_and_attributes_dropped() -> None:
    source = '<div class="x" style="color:red"><p id="p1" title="t">text <small>s</small></p></div>'
    assert sanitize_html(source) == "<p>text s</p>"


def test_classes_are_kept_only_for_microformats_and_mastodon_semantics() -> None:
    source = '<span class="h-entry p-name u-photo dt-published e-content evil mention-x">x</span>'
    assert sanitize_html(source) == (
        '<span class="h-entry p-name u-photo dt-published e-content">x</span>'
    )
    assert sanitize_html('<span class="evil">x</span>') == "<span>x</span>"


@pytest.mark.parametrize("scheme", sorted(LINK_SCHEMES))
def test_every_mastodon_link_scheme_is_kept(scheme: str) -> None:
    href = f"{scheme}://example.test/x"
    assert sanitize_html(f'<a href="{href}">x</a>') == f'<a href="{href}" {REL}>x</a>'


def test_links_get_rel_but_no_target() -> None:
    output = sanitize_html('<a href="https://x.example/" rel="me" target="_top">x</a>')
    assert output == f'<a href="https://x.example/" {REL}>x</a>'


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java&#x09;script:alert(1)",
        "&#106;avascript:alert(1)",
        "&#x6A;avascript&colon;alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "mailto:someone@example.test",
        "/relative/path",
        "//evil.example/",
        "?q=1",
        "\x01 -https://x.example/",
        "",
    ],
)
def test_links_outside_the_schemes_become_text(href: str) -> None:
    assert sanitize_html(f'<p>see <a href="{href}" class="mention">this</a>!</p>') == (
        "<p>see this!</p>"
    )


# -- XSS vectors ------------------------------------------------------------------------------


XSS = [
    ("<script>alert(1)</script>after", "after"),
    ("<SCRIPT SRC=//evil.example/x.js></SCRIPT>after", "after"),
    ("<scr<script>ipt>alert(1)</script>", "ipt&gt;alert(1)"),
    ("<<script>script>alert(1)<</script>/script>", "&lt;/script&gt;"),
    ("<img src=x onerror=alert(1)>", ""),
    ('<p onclick="alert(1)" onmouseover=alert(1)>x</p>', "<p>x</p>"),
    (
        '<a href="https://x.example" onclick="alert(1)">x</a>',
        f'<a href="https://x.example" {REL}>x</a>',
    ),
    ("<svg onload=alert(1)><circle r=1 /></svg>after", "after"),
    ("<svg><script>alert(1)</script><text>t</text></svg>", ""),
    ("<math><mtext><script>alert(1)</script></mtext></math>", ""),
    ("<style>@import 'x';</style><p>p</p>", "<p>p</p>"),
    ('<p style="background:url(javascript:alert(1))">x</p>', "<p>x</p>"),
    ("<iframe src=javascript:alert(1)></iframe>f", "f"),
    ("<object data=x.swf></object><embed src=x.swf>o", "o"),
    ('<form action="javascript:alert(1)"><button>b</button></form>', "b"),
    ('<meta http-equiv="refresh" content="0;url=javascript:alert(1)">m', "m"),
    ("<base href=javascript:alert(1)//>b", "b"),
    ('<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>', '"&gt;'),
    ("<template><img src=x onerror=alert(1)></template>t", "t"),
    ("<p>unclosed <b>bold <a href='https://x.example'>link", None),
    ("</p></div><p>stray closers</b></i>", "<p></p><p>stray closers</p>"),
    ("<!-- <script>alert(1)</script> -->c", "c"),
    ("<![CDATA[<script>alert(1)</script>]]>c", "alert(1)]]&gt;c"),  # a bogus comment ends at >
    ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("&#60;script&#62;alert(1)&#60;/script&#62;", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ('<a href="https://x.example/"><a href="javascript:alert(1)">nested</a></a>', None),
    ("<p>a<p>b<p>c", "<p>a</p><p>b</p><p>c</p>"),
    ('<a href="https://x.example/" style="position:fixed;inset:0">overlay</a>', None),
    ("<xmp><script>alert(1)</script></xmp>", ""),
    ('<div id="x" data-x="y" aria-hidden="true" tabindex="-1">attr</div>', "attr"),
]


@pytest.mark.parametrize(("source", "expected"), XSS)
def test_xss_vectors_render_inert(source: str, expected: str | None) -> None:
    output = sanitize_html(source)
    assert_inert(output, MASTODON_ELEMENTS)
    if expected is not None:
        assert output == expected


@pytest.mark.parametrize(("source", "expected"), XSS)
def test_xss_vectors_render_inert_in_rich_html_too(source: str, expected: str | None) -> None:
    assert_inert(sanitize_rich_html(source), RICH_ELEMENTS)


# -- rich HTML for our own pages --------------------------------------------------------------


def test_rich_html_keeps_subheadings_tables_and_rules() -> None:
    source = (
        "<h1>Guide</h1><h3>Step</h3><h6>small</h6><hr>"
        "<table><thead><tr><th colspan=2 style=x>Role</th></tr></thead>"
        "<tbody><tr><td>a</td><td rowspan=1>b</td></tr></tbody></table>"
    )
    assert sanitize_rich_html(source) == (
        "<h2>Guide</h2><h3>Step</h3><h4>small</h4><hr>"
        '<table><thead><tr><th colspan="2">Role</th></tr></thead>'
        '<tbody><tr><td>a</td><td rowspan="1">b</td></tr></tbody></table>'
    )


def test_rich_html_has_no_images() -> None:
    assert sanitize_rich_html('<p><img src="https://x.example/a.png" alt="a"></p>') == "<p></p>"


def test_rich_content_degrades_to_the_mastodon_set_when_sent() -> None:
    rich = sanitize_rich_html(
        "<h2>Rota</h2><table><tr><th>Day</th><th>Who</th></tr>"
        "<tr><td>Mon</td><td>Ana</td></tr></table><hr><p>end</p>"
    )
    assert sanitize_html(rich) == (
        "<p><strong>Rota</strong></p><p>Day | Who</p><p>Mon | Ana</p><p>end</p>"
    )


def test_leading_newlines_in_pre_do_not_drift() -> None:
    # HTML drops one newline after <pre>; without care each pass would eat another.
    once = sanitize_html("<pre>\n\n\ncode\n</pre>")
    assert once == "<pre>code\n</pre>"
    assert sanitize_html(once) == once


# -- plain text -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("<p>Hello <b>co-op</b></p><p>Second   para</p>", "Hello co-op\n\nSecond para"),
        ("<p>line<br>break</p>", "line\nbreak"),
        ("<h1>Title</h1>body", "Title\n\nbody"),
        ("<ul><li>one</li><li>two</li></ul>", "one\n\ntwo"),
        ("<script>alert(1)</script><style>p{}</style>only this", "only this"),
        ("a &amp; b &lt;c&gt; &nbsp;d", "a & b <c> d"),
        ('<a href="javascript:x">click</a>', "click"),
        ("<pre>  keep\n  lines</pre>", "keep\nlines"),
        ("<table><tr><td>a</td><td>b</td></tr></table>", "a b"),
        ("", ""),
        ("   \n\t ", ""),
    ],
)
def test_html_to_text(source: str, expected: str) -> None:
    assert html_to_text(source) == expected


# -- properties -------------------------------------------------------------------------------

PIECES = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<h1>",
        "</h2>",
        "<pre>",
        "\n",
        "<a href='https://x.example/'>",
        '<a href="javascript:alert(1)">',
        "<a href=/rel>",
        "</a>",
        "<b>",
        "</i>",
        "<ul><li>",
        "<ol start=2>",
        "<table><tr><td>",
        "</td><th>",
        "<blockquote>",
        '<span class="h-card evil">',
        "<script>",
        "</script>",
        "<style>",
        "<svg onload=alert(1)>",
        "<img src=x onerror=alert(1)>",
        " onerror=alert(1) ",
        "javascript:",
        "&lt;",
        "&amp;",
        "&#106;",
        "&nbsp;",
        "<!--",
        "-->",
        "<br>",
        "<hr>",
        '"',
        "'",
        "<",
        ">",
        "=",
        "x",
    ]
)
HTMLISH = st.lists(PIECES | st.text(max_size=5), max_size=30).map("".join)


@settings(max_examples=200)
@given(HTMLISH)
def test_sanitize_html_is_idempotent_and_inert(source: str) -> None:
    once = sanitize_html(source)
    assert sanitize_html(once) == once
    assert_inert(once, MASTODON_ELEMENTS)


@settings(max_examples=200)
@given(HTMLISH)
def test_sanitize_rich_html_is_idempotent_inert_and_degrades(source: str) -> None:
    once = sanitize_rich_html(source)
    assert sanitize_rich_html(once) == once
    assert_inert(once, RICH_ELEMENTS)
    assert_inert(sanitize_html(once), MASTODON_ELEMENTS)


@settings(max_examples=200)
@given(HTMLISH)
def test_html_to_text_reads_the_same_before_and_after_sanitising(source: str) -> None:
    # A summary made from raw input says what the sanitised page shows, no more.
    assert html_to_text(source) == html_to_text(sanitize_rich_html(source))
