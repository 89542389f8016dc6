"""ROSTER_JWT_PROFILES_CLAIM: the profiles come from an identity provider's roles claim,
nested or not, where the names of other services' roles are ignored."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from settings import Settings
from tests.api.operations import error_codes, store_for_module
from tests.support import TEST_SECRET, ThreadedServer

ME = "{ me { subject profiles } }"
USERS = "{ users { edges { node { id } } } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    with store_for_module(tmp_path_factory.mktemp("claim")) as env:
        settings = replace(Settings.from_env(env), jwt_profiles_claim="realm_access.roles")
        with ThreadedServer(settings) as running:
            yield running


def signed(**claims: Any) -> str:
    exp = datetime.now(UTC) + timedelta(minutes=5)
    return jwt.encode({"sub": "ana", "exp": exp, **claims}, TEST_SECRET, algorithm="HS256")


def test_the_profiles_are_read_from_the_nested_claim(server: ThreadedServer) -> None:
    token = signed(realm_access={"roles": ["USER_MANAGEMENT_VIEWER", "AUDITOR"]})

    me = server.api.data(ME, as_=token)["me"]

    assert sorted(me["profiles"]) == ["AUDITOR", "USER_MANAGEMENT_VIEWER"]


def test_roles_that_are_not_profiles_are_ignored(server: ThreadedServer) -> None:
    roles = ["offline_access", "uma_authorization", "billing-admin", "USER_MANAGEMENT_VIEWER"]
    token = signed(realm_access={"roles": roles})

    assert server.api.data(ME, as_=token)["me"]["profiles"] == ["USER_MANAGEMENT_VIEWER"]


def test_the_profiles_claim_of_roster_is_not_read_then(server: ThreadedServer) -> None:
    token = signed(profiles=["USER_MANAGEMENT_ADMIN"], realm_access={"roles": []})

    assert error_codes(server.api.post(USERS, as_=token)) == ["FORBIDDEN"]


def test_a_token_without_the_claim_has_no_profile(server: ThreadedServer) -> None:
    token = signed()

    assert server.api.data(ME, as_=token)["me"] == {"subject": "ana", "profiles": []}
    assert error_codes(server.api.post(USERS, as_=token)) == ["FORBIDDEN"]


@pytest.mark.parametrize(
    "realm_access",
    [{"roles": "USER_MANAGEMENT_ADMIN"}, {"roles": [["USER_MANAGEMENT_ADMIN"]]}, ["roles"]],
    ids=["a-string", "a-list-of-lists", "not-an-object"],
)
def test_a_claim_that_is_not_a_list_of_names_is_unauthenticated(
    server: ThreadedServer, realm_access: Any
) -> None:
    result = server.api.post(ME, as_=signed(realm_access=realm_access))

    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert "'realm_access.roles' claim must be a list of names" in result["errors"][0]["message"]
