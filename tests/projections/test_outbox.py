"""The outbox of invitation mails (mail_deliveries) is work in progress kept from the
events: applying the events again, by a rebuild or a version change, changes nothing
in it, so a mail handed over is never listed to be sent again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from bootstrap import Services, build_services
from domain.application import NewUser
from domain.users import User
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


def test_mails_recorded_sent_together_are_all_marked_sent_in_one_pass(services: Services) -> None:
    """InvitationSent events come by the hundred; with them in one pass, a resend and a
    deactivation: each is applied in its order."""
    roster = services.roster
    ids = [
        roster.register_user(NewUser("Ann", "Lee", f"ann.{n}@acme.com"), actor=ACTOR).id
        for n in range(4)
    ]
    services.read_model.catch_up()
    sent = [(user_id, invitation_of(services, user_id), datetime.now(UTC)) for user_id in ids]
    roster.record_invitations_sent(sent[:2])
    roster.resend_invitation(ids[2], actor=ACTOR)
    roster.record_invitations_sent(sent[3:])
    roster.deactivate_user(ids[3], actor=ACTOR, reason=None)

    services.read_model.catch_up()

    assert [statuses(services, str(user_id)) for user_id in ids] == [
        ["SENT"],
        ["SENT"],
        ["SUPERSEDED", "PENDING"],
        ["SENT"],
    ]


def invitation_of(services: Services, user_id: UUID) -> UUID:
    invitation = services.roster.get_aggregate(User, user_id, "user").invitation
    assert invitation is not None
    return invitation.id


def test_a_run_of_resends_and_deactivations_leaves_one_mail_per_user_waiting(
    services: Services,
) -> None:
    """Events applied in one pass, as a bulk action writes them: a user resent twice in
    one run keeps only the newest mail, a user deactivated in the run none, and a
    rebuild gives the same."""
    roster = services.roster
    ids = [
        roster.register_user(NewUser("Bo", f"Ng{n}", f"bo{n}@acme.com"), actor=ACTOR).id
        for n in range(3)
    ]
    twice, deactivated, once = ids
    users = roster.users_of(ids)
    users[twice].reissue_invitation(ACTOR, roster.new_invitation())
    users[once].reissue_invitation(ACTOR, roster.new_invitation())
    users[twice].reissue_invitation(ACTOR, roster.new_invitation())
    users[deactivated].deactivate(ACTOR, None)
    roster.save(*users.values())
    services.read_model.catch_up()
    expected = {
        str(twice): ["SUPERSEDED", "SUPERSEDED", "PENDING"],
        str(deactivated): ["SUPERSEDED"],
        str(once): ["SUPERSEDED", "PENDING"],
    }
    assert {user_id: statuses(services, user_id) for user_id in expected} == expected

    services.read_model.rebuild()

    assert {user_id: statuses(services, user_id) for user_id in expected} == expected


# ---------------------------------------------------------------- erasure


def erased_with_mails(services: Services) -> tuple[str, str]:
    """A person with a mail handed over and one waiting (after a resend) and an error on
    it, and another person with a mail waiting; the first one erased. Their ids."""
    roster = services.roster
    erased = roster.register_user(NewUser("Zoë", "Quist", "zoe.quist@acme.com"), actor=ACTOR).id
    kept = roster.register_user(NewUser("Bo", "Ng", "bo@acme.com"), actor=ACTOR).id
    roster.record_invitations_sent([(erased, invitation_of(services, erased), datetime.now(UTC))])
    roster.resend_invitation(erased, actor=ACTOR)
    services.read_model.catch_up()
    with services.database.writing() as cursor:
        # As the worker records a failed attempt: the mail server's answer names the address.
        cursor.execute(
            "UPDATE mail_deliveries SET last_error = '450 zoe.quist@acme.com: mailbox busy'"
            " WHERE user_id = %s AND status = 'PENDING'",
            (str(erased),),
        )
    roster.erase_user(erased, actor=ACTOR, reason="request 14", rows=[])
    services.read_model.catch_up()
    return str(erased), str(kept)


def test_an_erased_persons_mails_keep_no_address_name_or_error(services: Services) -> None:
    erased, kept = erased_with_mails(services)

    rows = [row for row in outbox(services) if row["user_id"] == erased]
    assert [(r["email"], r["name"], r["last_error"], r["status"]) for r in rows] == [
        ("", "", None, "ERASING"),
        ("", "", None, "ERASING"),
    ]
    others = [row for row in outbox(services) if row["user_id"] == kept]
    assert [(r["email"], r["name"], r["status"]) for r in others] == [
        ("bo@acme.com", "Bo Ng", "PENDING")
    ]


def test_a_rebuild_after_an_erasure_leaves_the_outbox_as_it_was(services: Services) -> None:
    erased_with_mails(services)
    kept = outbox(services)

    services.read_model.rebuild()

    assert outbox(services) == kept


def test_the_events_give_an_emptied_outbox_its_erased_rows_again(services: Services) -> None:
    """The keys gone, the person's events give no address or name: applied to an empty
    outbox, they make the rows the erasure left."""
    erased_with_mails(services)
    with services.database.writing() as cursor:
        cursor.execute("UPDATE mail_deliveries SET last_error = NULL")  # not from the events
    kept = outbox(services)
    with services.database.writing() as cursor:
        cursor.execute("DELETE FROM mail_deliveries")

    services.read_model.rebuild()

    assert outbox(services) == kept


def test_a_refusal_recorded_after_the_erasure_leaves_the_mail_erased(
    services: Services,
) -> None:
    """A lane that handed the mail over as the person was erased records its refusal."""
    erased, _ = erased_with_mails(services)
    waiting = [row for row in outbox(services) if row["user_id"] == erased][-1]
    services.roster.record_invitation_undeliverable(
        UUID(erased), UUID(waiting["invitation_id"]), "550 no such user"
    )

    services.read_model.catch_up()

    assert statuses(services, erased) == ["ERASING", "ERASING"]
