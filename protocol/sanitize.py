"""HTML in and out: Mastodon's allowlist for federated content, a richer one for our pages.

Every ``content`` we store or send goes through :func:`sanitize_html`, which
keeps exactly what Mastodon keeps since 4.2 (sanitize_config.rb
MASTODON_STRICT; docs spec/activitypub.md#sanitization), so what a co-op
writes looks the same here and on every Mastodon server. Long-form pages on
our own site use :func:`sanitize_rich_html`, which adds sub-headings, tables
and rules; sent to the fediverse, that content degrades to the Mastodon set.

Structure changes (headings become ``<p><strong>``, links without a usable
``href`` become their text, table rows become paragraphs) need a tree, not
regular expressions over HTML. So: ``nh3`` parses and cleans to a superset
(its output is well-formed, escaped HTML), a small event rewriter changes the
structure, and ``nh3`` cleans the result again to the final allowlist. The
second pass means the rewriter can never introduce anything unsafe.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

import nh3

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "LINK_REL",
    "LINK_SCHEMES",
    "html_to_text",
    "sanitize_html",
    "sanitize_rich_html",
]

# Mastodon 4.2+ MASTODON_STRICT elements and attributes.
_MASTODON_TAGS: Final = frozenset(
    {"p", "br", "span", "a", "del", "pre", "blockquote", "code", "b", "strong", "u", "i", "em"}
    | {"ul", "ol", "li"}
)
_MASTODON_ATTRIBUTES: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "a": frozenset({"href", "class"}),  # rel too, but LINK_REL replaces it
        "span": frozenset({"class"}),
        "ol": frozenset({"start", "reversed"}),
        "li": frozenset({"value"}),
    }
)
# Mastodon sanitize_config.rb LINK_PROTOCOLS; other links (relative ones too) become text.
LINK_SCHEMES: Final = frozenset(
    {"http", "https", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "xmpp", "magnet", "gemini"}
)
# Mastodon adds rel="nofollow noopener noreferrer" target="_blank". We set the rel
# (spam deterrent, no window.opener, no Referer leak) but not target: opening a
# new window is the reader's choice (WCAG G201), and receiving servers add
# their own target when they render.
LINK_REL: Final = "nofollow noopener noreferrer"

_HEADINGS: Final = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_TABLE: Final = frozenset({"table", "thead", "tbody", "tfoot", "tr", "th", "td"})
_RICH_TAGS: Final = _MASTODON_TAGS | {"h2", "h3", "h4", "hr"} | _TABLE
_SPAN: Final = frozenset({"colspan", "rowspan"})
_RICH_ATTRIBUTES: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {**_MASTODON_ATTRIBUTES, "th": _SPAN, "td": _SPAN}
)
# Removed with everything inside (the Sanitize gem's remove_contents, plus template).
_DROP_WITH_CONTENT: Final = frozenset(
    {"script", "style", "svg", "math", "iframe", "noscript", "noembed", "noframes"}
    | {"xmp", "template", "object", "title", "textarea", "select"}
)
# Mastodon CLASS_WHITELIST_TRANSFORMER: microformats prefixes and four semantic classes.
_CLASS_OK = re.compile(r"(h|p|u|dt|e)-.*|mention|hashtag|ellipsis|invisible")
# A URL scheme as browsers find it (WHATWG URL: leading C0/space stripped, tab/newline removed).
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_IGNORED_IN_URL = re.compile(r"[\t\n\r]")
_C0_AND_SPACE: Final = "".join(map(chr, range(0x21)))
_SPACES = re.compile(r"\s+")


def _filter_attribute(tag: str, name: str, value: str) -> str | None:
    """nh3 callback: keep allowed classes only, and links in ``LINK_SCHEMES`` only."""
    if name == "class":
        kept = [token for token in value.split() if _CLASS_OK.fullmatch(token)]
        return " ".join(kept) or None
    if name == "href":
        match = _SCHEME.match(_IGNORED_IN_URL.sub("", value).lstrip(_C0_AND_SPACE))
        return value if match and match.group(1).lower() in LINK_SCHEMES else None
    return value


@dataclass(frozen=True, slots=True)
class _Policy:
    """One allowlist, and what the first pass must keep so the rewriter can see it."""

    tags: frozenset[str]
    attributes: Mapping[str, frozenset[str]]
    renames: Mapping[str, str]  # heading levels the rich policy shifts (h1 -> h2 ...)
    flatten: bool  # Mastodon: headings to <p><strong>, table rows to <p>

    def clean(self, fragment: str, *, first_pass: bool) -> str:
        tags = self.tags | (_HEADINGS | _TABLE if first_pass else frozenset())
        return nh3.clean(
            fragment,
            tags=set(tags),
            clean_content_tags=set(_DROP_WITH_CONTENT),
            # "*": an empty set drops the lang/title ammonia allows everywhere by default.
            attributes={"*": set()} | {tag: set(names) for tag, names in self.attributes.items()},
            attribute_filter=_filter_attribute,
            strip_comments=True,
            link_rel=LINK_REL,
            url_schemes=set(LINK_SCHEMES),
        )


_MASTODON = _Policy(_MASTODON_TAGS, _MASTODON_ATTRIBUTES, {}, flatten=True)
_RICH = _Policy(_RICH_TAGS, _RICH_ATTRIBUTES, {"h1": "h2", "h5": "h4", "h6": "h4"}, flatten=False)


def sanitize_html(fragment: str) -> str:
    """Clean HTML to Mastodon's 4.2+ allowlist; idempotent.

    Headings become ``<p><strong>…</strong></p>``; links whose scheme is not
    in ``LINK_SCHEMES`` (``javascript:``, ``data:``, relative) become plain
    text; every link gets ``rel="nofollow noopener noreferrer"``; ``script``,
    ``style``, ``svg`` and similar are removed with their content; classes
    outside microformats and ``mention hashtag ellipsis invisible`` go.
    Table rows (from rich content) become paragraphs with ``" | "`` between cells.
    """
    return _sanitize(fragment, _MASTODON)


def sanitize_rich_html(fragment: str) -> str:
    """Clean HTML for our own pages: Mastodon's set plus h2 to h4, tables and ``hr``.

    ``h1`` becomes ``h2`` (the page title is the only ``h1``); ``h5``/``h6``
    become ``h4``. No images: media are attachments, shown by the page.
    """
    return _sanitize(fragment, _RICH)


def _sanitize(fragment: str, policy: _Policy) -> str:
    rewriter = _Rewriter(policy)
    rewriter.feed(policy.clean(fragment, first_pass=True))
    rewriter.close()
    return policy.clean("".join(rewriter.out), first_pass=False)


class _Rewriter(HTMLParser):
    """Re-serialise nh3 output, changing structure on the way.

    Input is nh3's serialisation (balanced, escaped, no comments or raw-text
    elements), so the stdlib parser reads it faithfully; anything it emits is
    escaped again and cleaned by the second nh3 pass anyway.
    """

    def __init__(self, policy: _Policy) -> None:
        super().__init__(convert_charrefs=True)
        self.policy = policy
        self.out: list[str] = []
        self.links: list[bool] = []  # per open <a>: was the tag kept?
        self.cells: list[int] = []  # per open <tr>: cells seen so far
        self.after_pre = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.after_pre = tag == "pre"
        if tag == "a":
            self.links.append(any(name == "href" for name, _ in attrs))
            if not self.links[-1]:
                return
        if self.policy.flatten and tag in _TABLE:
            self._table_start(tag)
        elif self.policy.flatten and tag in _HEADINGS:
            self.out.append("<p><strong>")
        else:
            name = self.policy.renames.get(tag, tag)
            rendered = "".join(f' {k}="{html.escape(v or "", quote=True)}"' for k, v in attrs)
            self.out.append(f"<{name}{rendered}>")

    def handle_endtag(self, tag: str) -> None:
        self.after_pre = False
        if tag == "a" and self.links and not self.links.pop():
            return
        if self.policy.flatten and tag in _TABLE:
            self._table_end(tag)
        elif self.policy.flatten and tag in _HEADINGS:
            self.out.append("</strong></p>")
        else:
            self.out.append(f"</{self.policy.renames.get(tag, tag)}>")

    def handle_data(self, data: str) -> None:
        if self.after_pre:
            # HTML §13.2.6.4.7: a newline right after <pre> is dropped when parsed, and
            # nh3 does not write it back; dropping them all here keeps cleaning idempotent.
            data = data.lstrip("\n")
            self.after_pre = not data
        self.out.append(html.escape(data, quote=False))

    def _table_start(self, tag: str) -> None:
        if tag == "tr":
            self.cells.append(0)
            self.out.append("<p>")
        elif tag in ("td", "th") and self.cells:
            if self.cells[-1]:
                self.out.append(" | ")
            self.cells[-1] += 1

    def _table_end(self, tag: str) -> None:
        if tag == "tr" and self.cells:
            self.cells.pop()
            self.out.append("</p>")


class _TextExtractor(HTMLParser):
    """Plain text from cleaned HTML: blocks become blank-line separated paragraphs."""

    BLOCKS: Final = frozenset({"p", "blockquote", "pre", "ul", "ol", "li", "hr", "tr"}) | _HEADINGS

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        if tag == "pre":
            self.pre_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n\n")
        if tag == "pre" and self.pre_depth:
            self.pre_depth -= 1

    def handle_data(self, data: str) -> None:
        # Inside <pre> line breaks are content; elsewhere any whitespace run is one space,
        # including runs split across elements ("a <b> b</b>").
        if not self.pre_depth:
            data = _SPACES.sub(" ", data)
            if data.startswith(" ") and self.parts and self.parts[-1].endswith((" ", "\n")):
                data = data[1:]
        self.parts.append(data)


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment, for summaries, search and notifications.

    Not HTML: escape it before putting it in a page. Paragraphs are separated
    by one blank line, ``<br>`` by a newline; scripts and styles say nothing.
    """
    extractor = _TextExtractor()
    extractor.feed(_RICH.clean(fragment, first_pass=True))
    extractor.close()
    lines = [line.strip() for line in "".join(extractor.parts).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
