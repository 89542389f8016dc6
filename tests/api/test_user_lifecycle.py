"""Deactivating and reactivating users, and giving them access: groups and permissions."""

from __future__ import annotations

import uuid

import pytest

from tests.api.operations import Administrator
from tests.support import ThreadedServer


@pytest.fixture
def admin(server: ThreadedServer) -> Administrator:
    return Administrator(server.api)


def test_deactivating_a_pending_user_makes_them_deactivated(admin: Administrator) -> None:
    user = admin.register("Ana", "Silva", "ana@acme.com")
    deactivated = admin.deactivate(user["id"], reason="left the company")
    assert (deactivated["__typename"], deactivated["status"]) == ("User", "DEACTIVATED")
    assert deactivated["statusChangedAt"] > user["statusChangedAt"]


def test_deactivating_twice_is_an_invalid_state(admin: Administrator) -> None:
    user = admin.register("Ana", "Silva", "ana@acme.com")
    admin.deactivate(user["id"])
    again = admin.deactivate(user["id"])
    assert (again["__typename"], again["code"]) == ("InvalidState", "INVALID_STATE")
    assert again["message"]


def test_a_reason_over_500_characters_is_invalid_input(admin: Administrator) -> None:
    user = admin.register("Ana", "Silva", "ana@acme.com")
    outcome = admin.deactivate(user["id"], reason="x" * 501)
    assert (outcome["__typename"], outcome["field"], outcome["code"]) == (
        "InvalidInput",
        "reason",
        "TOO_LONG",
    )
    assert admin.user(user["id"])["status"] == "PENDING"


def test_reactivating_a_user_who_never_accepted_makes_them_pending(admin: Administrator) -> None:
    user = admin.register("Ana", "Silva", "ana@acme.com")
    admin.deactivate(user["id"])
    reactivated = admin.reactivate(user["id"], reason="back from leave")
    assert (reactivated["__typename"], reactivated["status"]) == ("User", "PENDING")


def test_reactivating_issues_a_new_invitation(admin: Administrator) -> None:
    user = admin.register("Ana", "Silva", "ana@acme.com")
    admin.deactivate(user["id"])
    invitation = admin.reactivate(user["id"])["invitation"]
    assert invitation["issuedAt"] > user["invitation"]["issuedAt"]
    assert invitation["expiresAt"] > user["invitation"]["expiresAt"]
    assert (invitation["sentAt"], invitation["acceptedAt"]) == (None, None)


def test_reactivating_a_pending_user_is_an_invalid_state(admin: Administrator) -> None:
    user = admin.register("Ana", "Silva", "ana@acme.com")
    outcome = admin.reactivate(user["id"])
    assert (outcome["__typename"], outcome["code"]) == ("InvalidState", "INVALID_STATE")


@pytest.mark.parametrize("command", ["deactivate", "reactivate", "set_access"])
def test_an_unknown_user_is_not_found(admin: Administrator, command: str) -> None:
    unknown = str(uuid.uuid4())
    if command == "set_access":
        outcome = admin.set_access(unknown, [], [])
    else:
        outcome = getattr(admin, command)(unknown)
    assert (outcome["__typename"], outcome["code"]) == ("NotFound", "NOT_FOUND")


def test_a_user_id_that_is_not_a_uuid_is_invalid_input(admin: Administrator) -> None:
    outcome = admin.deactivate("ana")
    assert (outcome["__typename"], outcome["field"]) == ("InvalidInput", "userId")


def test_effective_permissions_are_the_sorted_union_of_direct_and_group_ones(
    admin: Administrator,
) -> None:
    user = admin.register("Ana", "Silva", "ana@acme.com")
    sales = admin.create_group("Sales", ["reports:read", "crm:write"])
    support = admin.create_group("Support", ["tickets:write", "reports:read"])
    access = admin.set_access(user["id"], [support["id"], sales["id"]], ["zeta", "crm:write"])[
        "access"
    ]
    assert access["permissions"] == ["crm:write", "zeta"]
    assert access["effectivePermissions"] == ["crm:write", "reports:read", "tickets:write", "zeta"]


def test_access_lists_the_groups_of_the_user(admin: Administrator) -> None:
    user = admin.register("Ana", "Silva", "ana@acme.com")
    sales = admin.create_group("Sales", ["crm:write"])
    admin.create_group("Support")
    groups = admin.set_access(user["id"], [sales["id"]], [])["access"]["groups"]
    assert [(g["id"], g["name"], g["permissions"]) for g in groups] == [
        (sales["id"], "Sales", ["crm:write"])
    ]


def test_member_counts_follow_access_changes(admin: Administrator) -> None:
    ana = admin.register("Ana", "Silva", "ana@acme.com")
    bruno = admin.register("Bruno", "Lima", "bruno@acme.com")
    sales, support = admin.create_group("Sales"), admin.create_group("Support")
    admin.set_access(ana["id"], [sales["id"], support["id"]], [])
    admin.set_access(bruno["id"], [sales["id"]], [])
    groups = admin.set_access(ana["id"], [support["id"]], [])["access"]["groups"]
    counts = {g["name"]: g["memberCount"] for g in admin.user(bruno["id"])["access"]["groups"]}
    assert (groups[0]["memberCount"], counts) == (1, {"Sales": 1})


def test_a_user_created_in_a_group_counts_as_a_member(admin: Administrator) -> None:
    sales = admin.create_group("Sales", ["crm:write"])
    user = admin.register("Ana", "Silva", "ana@acme.com", groupIds=[sales["id"]])
    [group] = user["access"]["groups"]
    assert (group["memberCount"], user["access"]["effectivePermissions"]) == (1, ["crm:write"])


def test_access_with_an_unknown_group_is_invalid_input(admin: Administrator) -> None:
    user = admin.register("Ana", "Silva", "ana@acme.com")
    sales = admin.create_group("Sales")
    outcome = admin.set_access(user["id"], [sales["id"], str(uuid.uuid4())], [])
    assert (outcome["__typename"], outcome["field"]) == ("InvalidInput", "access.groupIds[1]")
    assert admin.user(user["id"])["access"]["groups"] == []
