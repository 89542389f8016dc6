"""Wires the domain, the event store and the read models for one Settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from domain.actor_erasure import ActorErasures
from domain.application import Roster
from domain.bulk.commands import BulkCommands
from domain.bulk.process import BulkRunner
from domain.erasure import Erasures
from domain.imports.commands import ImportCommands
from domain.imports.process import Importer, Limits
from domain.invitations import InvitationTokens
from jobs.bulk_worker import BulkWorker
from jobs.delivery import DeliveryWorker
from jobs.expiry import ExpirySweeper
from jobs.intake import Intake
from jobs.invitation_mail import MailTemplates
from jobs.outboxes import FileOutbox, Outbox, SmtpOutbox
from jobs.uploads import Uploads
from jobs.worker import ImportWorker
from projections.actor_columns import ActorColumns
from projections.bulk import BulkActionView
from projections.database import (
    PostgresDatabase,
    ReadDatabase,
    SQLiteDatabase,
    schema_statements,
)
from projections.deliveries import DeliveryView
from projections.erased_copies import ErasedCopiesView
from projections.erasure import ErasedKeysView
from projections.erasure_queries import ImportRowsAboutPeople
from projections.follower import Follower
from projections.groups import GroupView
from projections.history import StatusHistoryView
from projections.import_table import ImportRowsTable
from projections.imports import ImportView
from projections.invitation_owners import InvitationOwnersTable
from projections.progress import Progress
from projections.user_selection import UserSelectionTable
from projections.users import UserListView
from projections.watcher import Watcher
from settings import Settings
from store.keyring import Keyring
from store.ledger import ErasureLedger
from store.sealing import Sealing
from tokens import TokenVerifier

READ_MODEL = "read-model"


@dataclass
class Services:
    settings: Settings
    roster: Roster
    database: ReadDatabase
    read_model: Follower
    progress: Progress
    tokens: TokenVerifier
    imports: ImportCommands
    intake: Intake
    worker: ImportWorker
    invitations: InvitationOwnersTable
    sweeper: ExpirySweeper
    delivery: DeliveryWorker
    bulk: BulkCommands
    bulk_worker: BulkWorker
    actors: ActorErasures
    erasures: Erasures

    def watcher(self) -> Watcher:
        store = self.settings.store
        if store.is_postgres:
            channel = getattr(self.roster.recorder, "channel_name", None)
            return Watcher(self.read_model, listen_conninfo=store.url, channel=channel)
        return Watcher(self.read_model)

    def close(self) -> None:
        self.database.close()
        self.roster.close()


def build_services(settings: Settings, tokens: TokenVerifier | None = None) -> Services:
    store = settings.store
    database: ReadDatabase
    if store.is_postgres:
        database = PostgresDatabase(store.url)
    else:
        Path(store.sqlite_path).parent.mkdir(parents=True, exist_ok=True)
        database = SQLiteDatabase(store.sqlite_path)
    roster = Roster(
        store.event_store_env(),
        tokens=InvitationTokens(settings.invitation_key()),
        invitation_ttl=settings.invitation_ttl,
    )
    database.create_tables(
        work=[
            *schema_statements(database.dialect, "jobs"),
            *schema_statements(database.dialect, "store"),
        ]
    )
    keyring = Keyring(database, ErasureLedger(Path(settings.erasure_ledger)))
    if settings.encrypt_personal_data:
        # Personal fields are sealed under their person's key from the first event written.
        roster.mapper.sealing = Sealing(keyring)  # type: ignore[attr-defined]
    erased_copies = ErasedCopiesView(database)
    read_model = Follower(
        READ_MODEL,
        roster,
        database,
        [
            GroupView(),
            UserListView(database.dialect),
            DeliveryView(),
            StatusHistoryView(),
            ImportView(),
            BulkActionView(),
            ErasedKeysView(keyring),
            erased_copies,  # after ImportView: the batches' statuses are current
        ],
    )
    read_model.on_advance(erased_copies.advanced)
    progress = Progress()
    read_model.on_advance(progress.advance)
    table = ImportRowsTable(database, read_model)
    importer = Importer(roster, table)
    uploads = Uploads(database)
    limits = Limits(max_bytes=settings.max_upload_bytes, max_rows=settings.max_rows)
    lease_seconds = settings.import_lease.total_seconds()
    worker = ImportWorker(
        importer, uploads, database, read_model, limits, lease_seconds=lease_seconds
    )
    invitations = InvitationOwnersTable(database, read_model)
    bulk_worker = BulkWorker(
        BulkRunner(roster, read_model), database, read_model, lease_seconds=lease_seconds
    )
    outbox: Outbox = (
        SmtpOutbox(settings.smtp_url)
        if settings.smtp_url
        else FileOutbox(Path(settings.outbox_dir))
    )
    return Services(
        settings=settings,
        roster=roster,
        database=database,
        read_model=read_model,
        progress=progress,
        tokens=tokens or TokenVerifier(settings),
        imports=ImportCommands(roster, table),
        intake=Intake(
            importer,
            uploads,
            limits,
            lease_seconds=lease_seconds,
            inline_rows=settings.import_inline_rows,
            on_kept=worker.wake,
        ),
        worker=worker,
        invitations=invitations,
        sweeper=ExpirySweeper(
            roster,
            invitations,
            read_model,
            every_seconds=settings.expiry_sweep.total_seconds(),
        ),
        delivery=DeliveryWorker(
            roster,
            database,
            outbox,
            MailTemplates.load(Path(settings.mail_templates)),
            sender=settings.mail_from,
            portal_url=settings.portal_url,
            rate=settings.mail_rate,
        ),
        bulk=BulkCommands(roster, UserSelectionTable(database, read_model)),
        bulk_worker=bulk_worker,
        actors=ActorErasures(roster, ActorColumns(database, keyring, read_model)),
        erasures=Erasures(roster, ImportRowsAboutPeople(database, read_model)),
    )
