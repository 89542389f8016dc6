from __future__ import annotations

import strawberry

from schema.errors import not_available
from schema.permissions import CanManageUsers
from schema.types.results import AcceptInvitationResult, UserResult

INVITATION_ISSUE = "invitation delivery and acceptance arrive with issue 5"


@strawberry.type
class InvitationMutations:
    @strawberry.mutation(
        permission_classes=[CanManageUsers],
        description="Issues a new invitation to a PENDING or EXPIRED user; the user becomes "
        "PENDING.",
    )
    def resend_invitation(self, user_id: strawberry.ID) -> UserResult:
        raise not_available("resendInvitation", INVITATION_ISSUE)

    @strawberry.mutation(
        description="Called by the portal with the token from the invitation email."
    )
    def accept_invitation(self, token: str) -> AcceptInvitationResult:
        raise not_available("acceptInvitation", INVITATION_ISSUE)
