"""Structured field values (RFC 8941): the subset RFC 9421 and RFC 9530 need."""

from __future__ import annotations

import http_sf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import SignatureMalformed
from protocol.httpsig import sfv
from protocol.httpsig.sfv import InnerList, Item, Token


def test_signature_input_parses_into_an_inner_list_with_parameters() -> None:
    text = 'sig1=("@method" "@target-uri");created=1618884473;keyid="test-key";alg="ed25519"'

    parsed = sfv.parse_dictionary(text)

    assert parsed == {
        "sig1": InnerList(
            (Item("@method"), Item("@target-uri")),
            (("created", 1618884473), ("keyid", "test-key"), ("alg", "ed25519")),
        )
    }


def test_every_bare_item_type_round_trips() -> None:
    text = 'a=1, b=-42, c="q\\"uote\\\\", d=tok/en:1, e=:aGVsbG8=:, f=?0, g, h;p=?1;q'

    parsed = sfv.parse_dictionary(text)

    assert parsed["a"] == Item(1)
    assert parsed["b"] == Item(-42)
    assert parsed["c"] == Item('q"uote\\')
    assert parsed["d"] == Item(Token("tok/en:1"))
    assert isinstance(parsed["d"].value, Token)
    assert parsed["e"] == Item(b"hello")
    assert parsed["f"] == Item(False)
    assert parsed["g"] == Item(True)
    assert parsed["h"] == Item(True, (("p", True), ("q", True)))
    # Serialising is canonical: true parameters lose their "=?1".
    assert sfv.serialize_dictionary(parsed) == text.replace(";p=?1", ";p")


def test_whitespace_rules_of_rfc_8941() -> None:
    # Leading/trailing SP and OWS around commas are allowed; extra SP inside
    # an inner list too. Serialising normalises all of it.
    parsed = sfv.parse_dictionary("  a=( 1   2 ) ,\tb=3  ")
    assert sfv.serialize_dictionary(parsed) == "a=(1 2), b=3"
    assert sfv.parse_dictionary("") == {}


def test_duplicate_keys_keep_the_last_value_in_the_first_position() -> None:
    # RFC 8941 §4.2.2: a repeated key overwrites the earlier value.
    assert sfv.parse_dictionary("a=1, b=2, a=3") == {"a": Item(3), "b": Item(2)}
    assert sfv.parse_dictionary("a;x=1;x=2").get("a") == Item(True, (("x", 2),))


def test_byte_sequences_tolerate_missing_padding() -> None:
    # RFC 8941 §4.2.7: parsers SHOULD NOT fail when '=' padding is absent.
    assert sfv.parse_dictionary("a=:aGVsbG8:")["a"] == Item(b"hello")


@pytest.mark.parametrize(
    "text",
    [
        "a=1,",  # trailing comma
        "a=1 b=2",  # missing comma
        "A=1",  # keys are lower case
        "a=1.5",  # decimals: not part of what signatures use
        "a=1234567890123456",  # 16 digits
        'a="unterminated',
        'a="tab\there"',
        'a="\\n"',  # only \" and \\ may be escaped
        "a=:not base64!:",
        "a=:aGVsbG8=aGVs:",  # padding in the middle
        "a=?2",
        "a=(1 2",
        "a=(1,2)",
        "a=@x",
        "\ta=1",  # leading tab is not SP
        "a=1;",
        "a=ü",
    ],
)
def test_invalid_input_is_refused(text: str) -> None:
    with pytest.raises(SignatureMalformed):
        sfv.parse_dictionary(text)


def test_parse_item_reads_a_component_identifier_with_parameters() -> None:
    assert sfv.parse_item('"content-digest";key="sha-256"') == Item(
        "content-digest", (("key", "sha-256"),)
    )
    with pytest.raises(SignatureMalformed):
        sfv.parse_item('"a" "b"')


@pytest.mark.parametrize(
    "value",
    [Token("bad token"), "naïve", 10**15, "line\nbreak"],
)
def test_serialising_an_impossible_value_is_a_programming_error(value: sfv.BareItem) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        sfv.serialize_bare(value)


def test_serialising_a_bad_key_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="key"):
        sfv.serialize_dictionary({"Bad": Item(1)})


# --- property tests: our serialiser, our parser and http_sf (PyPI) agree ---

keys = st.from_regex(r"[a-z*][a-z0-9_\-.*]{0,6}", fullmatch=True)
bare_items: st.SearchStrategy[sfv.BareItem] = st.one_of(
    st.booleans(),
    st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1),
    st.binary(max_size=12),
    st.from_regex(r"[ !#-\[\]-~\"\\]{0,12}", fullmatch=True),
    st.from_regex(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]{0,8}", fullmatch=True).map(Token),
)
params = st.dictionaries(keys, bare_items, max_size=3).map(lambda d: tuple(d.items()))
items = st.builds(Item, bare_items, params)
members = st.one_of(items, st.builds(InnerList, st.lists(items, max_size=3).map(tuple), params))
dictionaries = st.dictionaries(keys, members, max_size=4)


@settings(max_examples=150)
@given(dictionaries)
def test_serialise_then_parse_is_the_identity(value: sfv.Dictionary) -> None:
    text = sfv.serialize_dictionary(value)
    assert sfv.parse_dictionary(text) == value
    assert sfv.serialize_dictionary(sfv.parse_dictionary(text)) == text


@settings(max_examples=150)
@given(dictionaries.filter(bool))  # an empty field is never sent (RFC 8941 §4.1.2)
def test_an_independent_parser_reads_our_serialisation_the_same_way(
    value: sfv.Dictionary,
) -> None:
    text = sfv.serialize_dictionary(value)
    theirs = http_sf.parse(text.encode(), tltype="dictionary")
    assert http_sf.ser(theirs) == text


@settings(max_examples=150)
@given(st.text(alphabet=' a=1(");:?*-\t,b\\:x', max_size=24))
def test_arbitrary_text_either_parses_canonically_or_is_refused(text: str) -> None:
    try:
        parsed = sfv.parse_dictionary(text)
    except SignatureMalformed:
        return
    again = sfv.serialize_dictionary(parsed)
    assert sfv.parse_dictionary(again) == parsed
