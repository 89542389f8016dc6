"""Groups: creating them, changing their permissions, listing them."""

from __future__ import annotations

import uuid

import pytest

from tests.api.operations import Administrator
from tests.support import VIEWER, ThreadedServer, token


@pytest.fixture
def admin(server: ThreadedServer) -> Administrator:
    return Administrator(server.api)


def test_a_created_group_has_sorted_permissions_and_no_members(admin: Administrator) -> None:
    group = admin.create_group("Sales", ["reports:read", "crm:write", "reports:read"])
    assert group["__typename"] == "Group"
    assert (group["name"], group["permissions"], group["memberCount"]) == (
        "Sales",
        ["crm:write", "reports:read"],
        0,
    )


def test_a_group_name_taken_in_another_case_is_a_conflict(admin: Administrator) -> None:
    admin.create_group("Sales")
    again = admin.create_group("SALES")
    assert (again["__typename"], again["code"]) == ("Conflict", "GROUP_NAME_TAKEN")


def test_an_empty_group_name_is_invalid_input(admin: Administrator) -> None:
    outcome = admin.create_group("  ")
    assert (outcome["__typename"], outcome["field"], outcome["code"]) == (
        "InvalidInput",
        "name",
        "REQUIRED",
    )


def test_groups_lists_every_group_by_name(server: ThreadedServer, admin: Administrator) -> None:
    admin.create_group("support")
    admin.create_group("Admins", ["users:manage"])
    groups = server.api.data("{ groups { name permissions memberCount } }", as_=token(VIEWER))
    assert groups["groups"] == [
        {"name": "Admins", "permissions": ["users:manage"], "memberCount": 0},
        {"name": "support", "permissions": [], "memberCount": 0},
    ]


def test_setting_group_permissions_replaces_them(admin: Administrator) -> None:
    group = admin.create_group("Sales", ["crm:write"])
    changed = admin.set_group_permissions(group["id"], ["reports:read", "crm:read"])
    assert (changed["__typename"], changed["permissions"]) == (
        "Group",
        ["crm:read", "reports:read"],
    )


def test_group_permissions_change_the_effective_permissions_of_members(
    admin: Administrator,
) -> None:
    group = admin.create_group("Sales", ["crm:write"])
    user = admin.register("Ana", "Silva", "ana@acme.com", permissions=["mail:send"])
    admin.set_access(user["id"], [group["id"]], ["mail:send"])
    admin.set_group_permissions(group["id"], ["reports:read"])
    access = admin.user(user["id"])["access"]
    assert access["effectivePermissions"] == ["mail:send", "reports:read"]
    assert access["groups"][0]["permissions"] == ["reports:read"]


def test_setting_permissions_of_an_unknown_group_is_not_found(admin: Administrator) -> None:
    outcome = admin.set_group_permissions(str(uuid.uuid4()), ["x"])
    assert (outcome["__typename"], outcome["code"]) == ("NotFound", "NOT_FOUND")


def test_an_invalid_group_permission_names_its_position(admin: Administrator) -> None:
    group = admin.create_group("Sales")
    outcome = admin.set_group_permissions(group["id"], ["crm:write", "not valid"])
    assert (outcome["__typename"], outcome["field"]) == ("InvalidInput", "permissions[1]")
