"""Who may do what, as the contract's table says: one permission class per row."""

from __future__ import annotations

from typing import Any, ClassVar

from strawberry.permission import BasePermission
from strawberry.types import Info

from domain.profiles import Profile

ADMIN = Profile.USER_MANAGEMENT_ADMIN
VIEWER = Profile.USER_MANAGEMENT_VIEWER
AUDITOR = Profile.AUDITOR


class _Requires(BasePermission):
    """Any one of `profiles`; a missing or invalid token is UNAUTHENTICATED, a token
    without one of them FORBIDDEN (both raised as coded top-level errors)."""

    profiles: ClassVar[frozenset[Profile]] = frozenset(Profile)
    activity: ClassVar[str] = "do this"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        info.context.caller_with_any(self.profiles, self.activity)
        return True


class IsAuthenticated(_Requires):
    profiles = frozenset(Profile)
    activity = "call this API"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        info.context.caller()
        return True


class CanReadUsers(_Requires):
    profiles = frozenset({ADMIN, VIEWER, AUDITOR})
    activity = "read users, groups and import batches"


class CanImport(_Requires):
    profiles = frozenset({ADMIN, VIEWER})
    activity = "run an import"


class CanManageUsers(_Requires):
    profiles = frozenset({ADMIN})
    activity = "manage users, their access and groups"


class CanAudit(_Requires):
    profiles = frozenset({ADMIN, AUDITOR})
    activity = "read status history and the audit feed"
