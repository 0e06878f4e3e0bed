"""node.config: settings from config.toml and SHARING_CARE_* variables, validated at once."""

from __future__ import annotations

import tomllib
from typing import TYPE_CHECKING

import pytest

from node.config import ConfigError, Settings, load_settings, parse_settings, render_config

if TYPE_CHECKING:
    from pathlib import Path

    from node.config import TomlValue

GOOD = {"base_url": "https://coop.example", "coop_handle": "river", "coop_name": "River Care"}


def write_config(data_dir: Path, text: str) -> None:
    data_dir.mkdir(exist_ok=True)
    (data_dir / "config.toml").write_text(text, encoding="utf-8")


def test_minimal_file_gives_defaults(tmp_path: Path) -> None:
    write_config(tmp_path, render_config(GOOD))

    settings = load_settings(tmp_path, {})

    assert settings == Settings(
        data_dir=tmp_path,
        base_url="https://coop.example",
        coop_handle="river",
        coop_name="River Care",
        database_url=f"sqlite+aiosqlite:///{tmp_path.resolve() / 'node.sqlite3'}",
    )
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8000, 1)
    assert settings.local_dev is False
    assert settings.authorized_fetch is False
    assert settings.federation_iri is None
    assert settings.federation_members == ()
    assert settings.domain == "coop.example"
    assert settings.is_sqlite


def test_every_error_is_reported_at_once(tmp_path: Path) -> None:
    # Given a file with five distinct problems and one bad environment variable
    write_config(
        tmp_path,
        'base_url = "ftp://coop.example"\n'
        'coop_handle = "River Care!"\n'
        "port = 70000\n"
        'workers = "many"\n'
        "colour = 3\n",
    )
    environ = {"SHARING_CARE_LOCAL_DEV": "perhaps"}

    # When the settings are loaded
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, environ)

    # Then one error names every problem
    problems = caught.value.problems
    assert len(problems) == 7, problems
    joined = "\n".join(problems)
    for expected in (
        "unknown setting 'colour'",
        "coop_handle",
        "config.toml port: must be between 1 and 65535",
        "config.toml workers: must be a whole number",
        "SHARING_CARE_LOCAL_DEV: must be true or false",
        "coop_name is required",
        "base_url: 'ftp://coop.example' is not an absolute http(s) URL",
    ):
        assert expected in joined
    assert str(caught.value).startswith("invalid configuration: ")


def test_missing_file_is_reported_with_the_other_problems(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "absent", {"SHARING_CARE_PORT": "0"})
    joined = "\n".join(caught.value.problems)
    assert "config.toml does not exist" in joined
    assert "SHARING_CARE_PORT: must be between 1 and 65535" in joined


def test_unreadable_toml_is_one_problem(tmp_path: Path) -> None:
    write_config(tmp_path, "base_url = \n")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, {})
    assert "cannot be read" in caught.value.problems[0]


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    write_config(tmp_path, render_config({**GOOD, "port": 8001, "authorized_fetch": False}))
    environ = {
        "SHARING_CARE_PORT": "9000",
        "SHARING_CARE_AUTHORIZED_FETCH": "yes",
        "SHARING_CARE_COOP_NAME": "Renamed",
        "SHARING_CARE_FEDERATION_MEMBERS": "a.example, B.example:8443",
        "SHARING_CARE_DATABASE_URL": "postgresql+asyncpg://u@db/sc",
        "SHARING_CARE_ADMIN_PASSWORD": "not a setting, ignored",
    }

    settings = load_settings(tmp_path, environ)

    assert settings.port == 9000
    assert settings.authorized_fetch is True
    assert settings.coop_name == "Renamed"
    assert settings.federation_members == ("a.example", "b.example:8443")
    assert settings.database_url == "postgresql+asyncpg://u@db/sc"
    assert not settings.is_sqlite


@pytest.mark.parametrize(
    ("base_url", "local_dev"),
    [
        ("http://127.0.0.1:8001", False),  # loopback, but local_dev off
        ("http://coop.example", True),  # local_dev on, but not loopback
        ("http://10.0.0.5:8001", True),  # private is not loopback
    ],
)
def test_http_base_url_is_refused_unless_local_dev_on_loopback(
    tmp_path: Path, base_url: str, local_dev: bool
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(tmp_path, {**GOOD, "base_url": base_url, "local_dev": local_dev}, {})
    assert caught.value.problems == (
        "base_url: http:// is allowed only with local_dev = true and a loopback host; use https://",
    )


@pytest.mark.parametrize("host", ["127.0.0.1:8001", "localhost:8001", "[::1]:8001"])
def test_http_base_url_is_accepted_with_local_dev_on_loopback(tmp_path: Path, host: str) -> None:
    settings = parse_settings(
        tmp_path, {**GOOD, "base_url": f"http://{host}", "local_dev": True}, {}
    )
    assert settings.base_url == f"http://{host}"
    assert settings.domain == host


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("https://Coop.Example/", "https://coop.example"),
        ("https://coop.example:443", "https://coop.example"),
        ("https://coop.example:8443", "https://coop.example:8443"),
    ],
)
def test_base_url_is_normalised_to_an_origin(tmp_path: Path, given: str, normalised: str) -> None:
    assert parse_settings(tmp_path, {**GOOD, "base_url": given}, {}).base_url == normalised


@pytest.mark.parametrize(
    "base_url",
    ["https://coop.example/path", "https://user:pw@coop.example", "https://coop.example/?q=1"],
)
def test_base_url_must_be_a_bare_origin(tmp_path: Path, base_url: str) -> None:
    with pytest.raises(ConfigError):
        parse_settings(tmp_path, {**GOOD, "base_url": base_url}, {})


def test_federation_iri_follows_the_same_scheme_rule(tmp_path: Path) -> None:
    values = {**GOOD, "federation_iri": "http://federation.example/members"}
    with pytest.raises(ConfigError) as caught:
        parse_settings(tmp_path, values, {})
    assert caught.value.problems[0].startswith("federation_iri: http:// is allowed only")


def test_file_types_are_checked_not_coerced(tmp_path: Path) -> None:
    values = {**GOOD, "local_dev": "true", "port": True, "federation_members": "a.example"}
    with pytest.raises(ConfigError) as caught:
        parse_settings(tmp_path, values, {})
    # A TOML string "true" is accepted like the environment's; a boolean port is not a number.
    assert [p.split(":")[0] for p in caught.value.problems] == ["config.toml port"]


def test_render_config_round_trips_awkward_strings() -> None:
    values: dict[str, TomlValue] = {
        **GOOD,
        "coop_name": 'Care "&" \\ Co\u00f6p \U0001f331',
        "workers": 2,
    }
    text = render_config({**values, "federation_members": ["a.example"], "local_dev": True})
    parsed = tomllib.loads(text)
    assert parsed == {**values, "federation_members": ["a.example"], "local_dev": True}


def test_render_config_refuses_unknown_keys() -> None:
    with pytest.raises(ValueError, match="unknown setting"):
        render_config({"colour": "blue"})
