"""Hypothesis strategies for our AS2 dataclasses, as the node would build them.

Shared by test_serialize (round trips) and test_parse (mutated valid documents).
Values are canonical: texts are non-empty, times are UTC, ``content`` is set
whenever ``content_map`` is, and embedded objects nest at most 4 deep.
"""

from __future__ import annotations

import string
from datetime import UTC, datetime
from typing import TypeVar

from hypothesis import strategies as st

from protocol import keys
from protocol.objects import (
    Activity,
    Actor,
    AnyObject,
    Attachment,
    Collection,
    Image,
    Link,
    Object,
    Place,
    PropertyValue,
    Ref,
    Source,
    TemplateField,
)
from protocol.vocab import (
    PUBLIC_ADDRESSES,
    ActivityType,
    ActorType,
    CoopModel,
    Kind,
    LinkType,
    ObjectType,
)

__all__ = ["SIGNING_KEYS", "any_objects", "iris", "objects"]

T = TypeVar("T")

_PAGES = {
    ObjectType.COLLECTION,
    ObjectType.ORDERED_COLLECTION,
    ObjectType.COLLECTION_PAGE,
    ObjectType.ORDERED_COLLECTION_PAGE,
}
SIGNING_KEYS = [
    keys.generate_rsa("https://k.example/#rsa"),
    keys.generate_ed25519("https://k.example/#ed"),
]

iris = st.builds(
    "https://{}/{}".format,
    st.sampled_from(["coop.example", "care.example", "bücher.example", "10.0.0.1:8443"]),
    st.text(string.ascii_letters + string.digits + "-_/~", max_size=12),
)
texts = st.text(min_size=1, max_size=12)
# st.datetimes takes naive bounds and attaches the zone itself.
times = st.datetimes(datetime(1970, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC))  # noqa: DTZ001
addresses = st.lists(st.one_of(iris, st.sampled_from(sorted(PUBLIC_ADDRESSES))), max_size=3)
few_iris = st.lists(iris, max_size=3).map(tuple)


def opt(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.none() | strategy


links = st.builds(Link, st.sampled_from(LinkType), opt(iris), opt(texts))
attachments = st.builds(
    Attachment,
    st.sampled_from(
        [ObjectType.DOCUMENT, ObjectType.IMAGE, ObjectType.AUDIO, ObjectType.VIDEO, LinkType.LINK]
    ),
    iris,
    opt(st.sampled_from(["image/png", "text/html", "application/pdf"])),
    opt(texts),
)
images = st.builds(Image, iris, opt(st.just("image/webp")), opt(texts))


@st.composite
def objects(draw: st.DrawFn) -> Object:
    content_map = tuple(
        sorted(draw(st.dictionaries(st.sampled_from(["en", "fr", "cy"]), texts)).items())
    )
    content = draw(texts if content_map else opt(texts))  # builders set content with a map
    return Object(
        type=draw(st.sampled_from([t for t in ObjectType if t not in _PAGES])),
        id=draw(opt(iris)),
        kind=draw(opt(st.sampled_from(Kind))),
        name=draw(opt(texts)),
        summary=draw(opt(texts)),
        content=content,
        content_map=content_map,
        media_type=draw(opt(st.just("text/html"))),
        source=draw(opt(st.builds(Source, st.text(max_size=8), opt(st.just("text/markdown"))))),
        url=draw(opt(iris)),
        attributed_to=draw(few_iris),
        in_reply_to=draw(opt(iris)),
        context=draw(opt(iris | texts)),
        to=tuple(draw(addresses)),
        cc=tuple(draw(addresses)),
        bto=tuple(draw(addresses)),
        bcc=tuple(draw(addresses)),
        audience=draw(few_iris),
        published=draw(opt(times)),
        updated=draw(opt(times)),
        start_time=draw(opt(times)),
        end_time=draw(opt(times)),
        location=draw(opt(st.builds(Place, texts))),
        tags=tuple(draw(st.lists(links, max_size=3))),
        attachments=tuple(draw(st.lists(attachments, max_size=2))),
        sensitive=draw(st.booleans()),
        former_type=draw(opt(texts)),
        deleted=draw(opt(times)),
        version=draw(opt(st.integers(1, 10**6))),
        template_fields=tuple(
            draw(st.lists(st.builds(TemplateField, texts, opt(texts), st.booleans()), max_size=3))
        ),
        adapted_from=draw(opt(iris)),
        versions=draw(opt(iris)),
        items=draw(few_iris),
        accepted_answer=draw(opt(iris)),
        chatham_house=draw(st.booleans()),
        license=draw(opt(iris)),
    )


@st.composite
def actors(draw: st.DrawFn) -> Actor:
    actor_id = draw(iris)

    def published_keys(fragment: str) -> st.SearchStrategy[tuple[keys.PublicKey, ...]]:
        chosen = st.lists(st.sampled_from(SIGNING_KEYS), max_size=2, unique_by=id)
        return chosen.map(
            lambda ks: tuple(
                keys.PublicKey(f"{actor_id}#{fragment}{i}", actor_id, k.public(actor_id).key)
                for i, k in enumerate(ks)
            )
        )

    return Actor(
        id=actor_id,
        type=draw(st.sampled_from(ActorType)),
        inbox=draw(iris),
        outbox=draw(opt(iris)),
        followers=draw(opt(iris)),
        following=draw(opt(iris)),
        featured=draw(opt(iris)),
        shared_inbox=draw(opt(iris)),
        preferred_username=draw(opt(texts)),
        name=draw(opt(texts)),
        summary=draw(opt(texts)),
        url=draw(opt(iris)),
        icon=draw(opt(images)),
        image=draw(opt(images)),
        manually_approves_followers=draw(st.booleans()),
        discoverable=draw(st.booleans()),
        indexable=draw(st.booleans()),
        also_known_as=draw(few_iris),
        moved_to=draw(opt(iris)),
        published=draw(opt(times)),
        fields=tuple(draw(st.lists(st.builds(PropertyValue, texts, st.text()), max_size=3))),
        public_keys=draw(published_keys("main-key")),
        assertion_methods=draw(published_keys("multikey")),
        region=draw(opt(texts)),
        services=tuple(draw(st.lists(texts, max_size=3))),
        coop_model=draw(opt(st.sampled_from(CoopModel))),
        advises_on=tuple(draw(st.lists(texts, max_size=3))),
        federation=draw(opt(iris)),
    )


def activities(inner: st.SearchStrategy[Ref]) -> st.SearchStrategy[Activity]:
    @st.composite
    def build(draw: st.DrawFn) -> Activity:
        kind = draw(st.sampled_from(ActivityType))
        intransitive = kind in {ActivityType.ARRIVE, ActivityType.TRAVEL}
        refs = draw(st.lists(inner, min_size=0 if intransitive else 1, max_size=3))
        return Activity(
            type=kind,
            actor=draw(iris),
            id=draw(opt(iris)),
            objects=tuple(refs),
            target=draw(opt(iris)),
            to=tuple(draw(addresses)),
            cc=tuple(draw(addresses)),
            bto=tuple(draw(addresses)),
            bcc=tuple(draw(addresses)),
            audience=draw(few_iris),
            published=draw(opt(times)),
            content=draw(opt(texts)),
            summary=draw(opt(texts)),
        )

    return build()


def collections(inner: st.SearchStrategy[Ref]) -> st.SearchStrategy[Collection]:
    page = st.builds(
        Collection,
        type=st.sampled_from([ObjectType.COLLECTION_PAGE, ObjectType.ORDERED_COLLECTION_PAGE]),
        id=opt(iris),
        next=opt(iris),
        items=st.lists(iris, max_size=2).map(tuple),
    )
    return st.builds(
        Collection,
        type=st.sampled_from(sorted(_PAGES)),
        id=opt(iris),
        total_items=opt(st.integers(0, 10**9)),
        first=opt(iris | page),
        last=opt(iris),
        next=opt(iris),
        prev=opt(iris),
        part_of=opt(iris),
        start_index=opt(st.integers(0, 10**6)),
        items=st.lists(inner, max_size=3).map(tuple),
        attributed_to=few_iris,
    )


def _nested(depth: int) -> st.SearchStrategy[Ref]:
    level: st.SearchStrategy[Ref] = st.one_of(iris, objects(), actors())
    for _ in range(depth):
        level = st.one_of(level, activities(level), collections(level))
    return level


any_objects: st.SearchStrategy[AnyObject] = st.one_of(
    objects(), actors(), activities(_nested(3)), collections(_nested(2))
)
