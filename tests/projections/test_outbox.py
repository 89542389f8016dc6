"""The outbox of invitation mails (mail_deliveries) is work in progress kept from the
events: applying the events again, by a rebuild or a version change, changes nothing
in it, so a mail handed over is never listed to be sent again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bootstrap import Services, build_services
from domain.application import NewUser
from settings import Settings
from tests.integration.test_projections import ACTOR, record_history


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    yield built
    built.close()


def outbox(services: Services) -> list[dict[str, Any]]:
    with services.database.reading() as cursor:
        cursor.execute("SELECT * FROM mail_deliveries ORDER BY seq")
        rows: list[dict[str, Any]] = cursor.fetchall()
        return rows


def statuses(services: Services, user_id: str) -> list[str]:
    return [row["status"] for row in outbox(services) if row["user_id"] == user_id]


def test_a_rebuild_leaves_the_outbox_as_it_was(services: Services) -> None:
    record_history(services.roster)
    resent = services.roster.register_user(NewUser("Bo", "Ng", "bo@acme.com"), actor=ACTOR).id
    services.roster.resend_invitation(resent, actor=ACTOR)
    services.read_model.catch_up()
    kept = outbox(services)

    services.read_model.rebuild()

    assert outbox(services) == kept
    assert {row["status"] for row in kept} == {"PENDING", "FAILED", "SUPERSEDED"}


def test_a_rebuild_keeps_a_mail_handed_over_before_it_was_recorded(
    services: Services,
) -> None:
    user_id = str(
        services.roster.register_user(NewUser("Ann", "Lee", "ann@acme.com"), actor=ACTOR).id
    )
    services.read_model.catch_up()
    with services.database.writing() as cursor:
        # As the delivery worker marks a mail at hand-over, before InvitationSent.
        cursor.execute("UPDATE mail_deliveries SET status = 'SENT' WHERE user_id = %s", (user_id,))

    services.read_model.rebuild()

    assert statuses(services, user_id) == ["SENT"]


def test_a_version_change_keeps_the_outbox(services: Services, settings: Settings) -> None:
    record_history(services.roster)
    handed_over = services.roster.register_user(NewUser("Bo", "Ng", "bo@acme.com"), actor=ACTOR)
    services.read_model.catch_up()
    with services.database.writing() as cursor:
        cursor.execute(
            "UPDATE mail_deliveries SET status = 'SENT' WHERE user_id = %s",
            (str(handed_over.id),),
        )
        cursor.execute("UPDATE read_model_version SET version = 1")
    kept = outbox(services)

    again = build_services(settings)
    try:
        assert again.read_model.position() == 0
        again.read_model.catch_up()
        assert outbox(again) == kept
        assert statuses(again, str(handed_over.id)) == ["SENT"]
    finally:
        again.close()


def test_new_invitations_in_one_pass_leave_only_the_last_to_send(services: Services) -> None:
    user_id = services.roster.register_user(NewUser("Ann", "Lee", "ann@acme.com"), actor=ACTOR).id
    services.read_model.catch_up()
    services.roster.resend_invitation(user_id, actor=ACTOR)
    services.roster.resend_invitation(user_id, actor=ACTOR)

    services.read_model.catch_up()  # both new invitations in one pass

    assert statuses(services, str(user_id)) == ["SUPERSEDED", "SUPERSEDED", "PENDING"]
