"""The user list: one row per user, searchable, sortable and paged by keyset."""

from __future__ import annotations

import bisect
import functools
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.personal import ERASED_TEXT
from domain.users import User
from domain.values import email_key, username_key
from projections.database import Cursor, Dialect, insert_rows, marks
from projections.encoding import fold, from_json, iso, to_json
from projections.user_words import add_words, word_starts

STATUS_EVENTS = User.StatusChanged
#: The columns of `users` that a registration fills, in `_user_row`'s order.
USER_COLUMNS = (
    "seq",
    "id",
    "version",
    "first_name",
    "last_name",
    "email",
    "username",
    "name_sort",
    "email_key",
    "username_key",
    "search_text",
    "created_at",
    "status",
    "status_changed_at",
    "invitation_id",
    "invitation_issued_at",
    "invitation_expires_at",
    "group_ids",
    "permissions",
    "import_batch_id",
)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def search_text(first_name: str, last_name: str, email: str, username: str) -> str:
    return f"{name_sort(first_name, last_name)}\n{fold(email)}\n{fold(username)}"


def name_sort(first_name: str, last_name: str) -> str:
    """The folded full name. Folding goes character by character, so the parts may be
    folded apart; first and last names repeat, so each is folded once."""
    return f"{_fold_name(first_name)} {_fold_name(last_name)}"


_fold_name = functools.lru_cache(maxsize=1 << 16)(fold)


def personal_columns(
    user_id: Any, first_name: str, last_name: str, email: str, username: str
) -> tuple[str, ...]:
    """first_name, last_name, email, username, name_sort, email_key, username_key and
    search_text of a user. An erased person's registration reads back with a blank email
    (no real one is): their keys are `erased_key`, as erasing them left them."""
    erased = email == ERASED_TEXT
    return (
        first_name,
        last_name,
        email,
        username,
        name_sort(first_name, last_name),
        erased_key(user_id) if erased else email_key(email),
        erased_key(user_id) if erased else username_key(username),
        search_text(first_name, last_name, email, username),
    )


def erased_key(user_id: Any) -> str:
    """An erased user's email key and username key: theirs alone, so the UNIQUE columns
    hold every erased user, and never a real email's or username's (those have no ':')."""
    return f"erased:{user_id}"


class UserListView:
    """Keeps `users`, its search indexes, `group_members` and group member counts."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect

    def clear(self, cursor: Cursor) -> None:
        cursor.execute("DELETE FROM group_members")
        cursor.execute("DELETE FROM users")
        cursor.execute("DELETE FROM user_words")
        cursor.execute("DELETE FROM invitations")
        if self.dialect == "sqlite":
            cursor.execute("INSERT INTO users_search (users_search) VALUES ('delete-all')")

    def apply_all(self, cursor: Cursor, events: Sequence[tuple[Any, int]]) -> None:
        """Applies events in order; runs of registrations go in as one bulk insert."""
        registered: list[tuple[Any, int]] = []
        changed: list[Any] = []  # a run of status changes, each of a user of its own
        changing: set[Any] = set()
        for event, position in events:
            if isinstance(event, User.Registered):
                self._status_changed(cursor, changed)
                changed, changing = [], set()
                registered.append((event, position))
                continue
            self._register(cursor, registered)
            registered = []
            if isinstance(event, STATUS_EVENTS):
                if event.originator_id in changing:  # one change of a user per run
                    self._status_changed(cursor, changed)
                    changed, changing = [], set()
                changed.append(event)
                changing.add(event.originator_id)
                continue
            self._status_changed(cursor, changed)
            changed, changing = [], set()
            if isinstance(event, User.AccessChanged):
                self._access_changed(cursor, event)
            elif isinstance(event, User.InvitationSent):
                cursor.execute(
                    "UPDATE users SET invitation_sent_at = %s WHERE id = %s AND invitation_id = %s",
                    (iso(event.sent_at), str(event.originator_id), str(event.invitation_id)),
                )
            elif isinstance(event, User.InvitationUndeliverable):
                cursor.execute(
                    "UPDATE users SET invitation_delivery_failed_at = %s,"
                    " invitation_delivery_error = %s WHERE id = %s AND invitation_id = %s",
                    (
                        iso(event.timestamp),
                        event.reason,
                        str(event.originator_id),
                        str(event.invitation_id),
                    ),
                )
        self._register(cursor, registered)
        self._status_changed(cursor, changed)

    def _register(self, cursor: Cursor, registered: list[tuple[Any, int]]) -> None:
        if not registered:
            return
        keys = free_keys(cursor, [created_order(created_at(event)) for event, _ in registered])
        rows = [_user_row(event, key) for (event, _), key in zip(registered, keys, strict=True)]
        insert_rows(cursor, self.dialect, "users", USER_COLUMNS, rows)
        if self.dialect == "sqlite":
            cursor.executemany(
                "INSERT INTO users_search (rowid, search_text) VALUES (%s, %s)",
                [(row[0], row[10]) for row in rows],
            )
        add_words(cursor, self.dialect, [(row[0], row[10]) for row in rows])
        invitations = [(row[14], row[1]) for row in rows if row[14] is not None]
        insert_rows(cursor, self.dialect, "invitations", ("id", "user_id"), invitations)
        memberships = [
            (str(group_id), str(event.originator_id))
            for event, _ in registered
            for group_id in event.group_ids
        ]
        self._join(cursor, memberships)

    def _status_changed(self, cursor: Cursor, events: list[Any]) -> None:
        """A run of status changes of different users (a bulk action's), each statement
        run for all of them at once (PostgreSQL pipelines them)."""
        if not events:
            return
        cursor.executemany(
            "UPDATE users SET version = %s, status = %s, status_changed_at = %s WHERE id = %s",
            [
                (e.originator_version, str(e.status), iso(e.timestamp), str(e.originator_id))
                for e in events
            ],
        )
        issued = [(e, invitation) for e in events if (invitation := getattr(e, "invitation", None))]
        if issued:
            cursor.executemany(
                "INSERT INTO invitations (id, user_id) VALUES (%s, %s)",
                [(str(invitation["id"]), str(e.originator_id)) for e, invitation in issued],
            )
            cursor.executemany(
                "UPDATE users SET invitation_id = %s, invitation_issued_at = %s,"
                " invitation_expires_at = %s, invitation_sent_at = NULL,"
                " invitation_accepted_at = NULL, invitation_delivery_failed_at = NULL,"
                " invitation_delivery_error = NULL WHERE id = %s",
                [
                    (
                        str(invitation["id"]),
                        iso(invitation["issued_at"]),
                        iso(invitation["expires_at"]),
                        str(e.originator_id),
                    )
                    for e, invitation in issued
                ],
            )
        accepted = [e for e in events if isinstance(e, User.InvitationAccepted)]
        if accepted:
            cursor.executemany(
                "UPDATE users SET invitation_accepted_at = %s WHERE id = %s",
                [(iso(e.accepted_at), str(e.originator_id)) for e in accepted],
            )
        self._erase(cursor, [str(e.originator_id) for e in events if isinstance(e, User.Erased)])

    def _erase(self, cursor: Cursor, user_ids: list[str]) -> None:
        """The users' rows as a rebuild writes them, their registrations read back erased
        (`personal_columns` of blanks), a failed invitation's error blank too; and nothing
        of them left in the search indexes."""
        if not user_ids:
            return
        cursor.execute(
            f"SELECT seq, search_text FROM users WHERE id IN ({marks(user_ids)})", user_ids
        )
        found = [(int(row["seq"]), row["search_text"]) for row in cursor.fetchall()]
        if self.dialect == "sqlite":
            cursor.executemany(
                "INSERT INTO users_search (users_search, rowid, search_text)"
                " VALUES ('delete', %s, %s)",
                found,
            )
        cursor.executemany(
            "DELETE FROM user_words WHERE prefix = %s AND seq = %s",
            [(start, seq) for seq, text in found for start in word_starts(text)],
        )
        blank = ERASED_TEXT
        rows = [
            (user_id, personal_columns(user_id, blank, blank, blank, blank)) for user_id in user_ids
        ]
        cursor.executemany(
            "UPDATE users SET first_name = %s, last_name = %s, email = %s, username = %s,"
            " name_sort = %s, email_key = %s, username_key = %s, search_text = %s,"
            " invitation_delivery_error = CASE WHEN invitation_delivery_error IS NULL"
            " THEN NULL ELSE %s END WHERE id = %s",
            [(*columns, blank, user_id) for user_id, columns in rows],
        )
        erased_text = search_text(blank, blank, blank, blank)
        if self.dialect == "sqlite":
            cursor.executemany(
                "INSERT INTO users_search (rowid, search_text) VALUES (%s, %s)",
                [(seq, erased_text) for seq, _ in found],
            )
        add_words(cursor, self.dialect, [(seq, erased_text) for seq, _ in found])

    def _access_changed(self, cursor: Cursor, event: Any) -> None:
        user_id = str(event.originator_id)
        cursor.execute("SELECT group_ids FROM users WHERE id = %s", (user_id,))
        row = cursor.fetchone()
        before = set(from_json(row["group_ids"])) if row else set()
        after = [str(g) for g in event.group_ids]
        self._leave(cursor, [(g, user_id) for g in sorted(before - set(after))])
        self._join(cursor, [(g, user_id) for g in sorted(set(after) - before)])
        cursor.execute(
            "UPDATE users SET version = %s, group_ids = %s, permissions = %s WHERE id = %s",
            (event.originator_version, to_json(after), to_json(event.permissions), user_id),
        )

    @staticmethod
    def _join(cursor: Cursor, memberships: list[tuple[str, str]]) -> None:
        """Adds (group_id, user_id) memberships and counts them on their groups."""
        if not memberships:
            return
        cursor.executemany(
            "INSERT INTO group_members (group_id, user_id) VALUES (%s, %s)", memberships
        )
        joined = Counter(group_id for group_id, _ in memberships)
        cursor.executemany(
            "UPDATE access_groups SET member_count = member_count + %s WHERE id = %s",
            [(count, group_id) for group_id, count in sorted(joined.items())],
        )

    @staticmethod
    def _leave(cursor: Cursor, memberships: list[tuple[str, str]]) -> None:
        if not memberships:
            return
        cursor.executemany(
            "DELETE FROM group_members WHERE group_id = %s AND user_id = %s", memberships
        )
        cursor.executemany(
            "UPDATE access_groups SET member_count = member_count - 1 WHERE id = %s",
            [(group_id,) for group_id, _ in memberships],
        )


def created_at(registered: Any) -> datetime:
    """When the user was created: their Registered event's time, or for a user migrated
    from a legacy system, the creation time that system recorded."""
    original: datetime | None = registered.created_at
    return original if original is not None else registered.timestamp


def created_order(moment: datetime) -> int:
    """The user's `seq` as first asked for: microseconds since the epoch, times 1024 so
    that users created in the same microsecond (a legacy file's users of one date) fit
    after the first in the order they were registered (`free_keys`). Integer order is
    creation order; `seq` is the trigram index's rowid too, so a search oldest first
    stops after one page instead of sorting every match (newest first, see
    `projections.user_queries._newest_matches`)."""
    return (moment - EPOCH) // timedelta(microseconds=1) * 1024


def free_keys(cursor: Cursor, keys: list[int]) -> list[int]:
    """Gives each user their `created_order` key, or when it is taken (users created in
    the same microsecond), the key after the highest taken one near it. Which keys are
    taken depends only on the events before, so a rebuild gives the same keys however
    its batches fall."""
    cursor.execute(f"SELECT seq FROM users WHERE seq IN ({marks(keys)})", keys)
    listed = {int(row["seq"]) for row in cursor.fetchall()}
    given: list[int] = []  # sorted: the keys given so far to this batch's users
    free = []
    for key in keys:
        if key in listed or _holds(given, key):
            key = _after_run(cursor, key, given)
        bisect.insort(given, key)
        free.append(key)
    return free


#: How far above a taken key one question looks for the end of its run (a run is the
#: users of one microsecond, such as a legacy file's users of one creation date): about
#: a millisecond of creation time, so a moved user sorts at most that far from its time.
RUN_WINDOW = 1 << 20


def _after_run(cursor: Cursor, key: int, given: list[int]) -> int:
    """The key after the highest taken key within RUN_WINDOW above the taken `key`: one
    question however long the run (a walk key by key would make a legacy file of one
    creation date quadratic)."""
    while True:
        cursor.execute(
            "SELECT MAX(seq) AS top FROM users WHERE seq >= %s AND seq < %s",
            (key, key + RUN_WINDOW),
        )
        row = cursor.fetchone()
        table_top = row["top"] if row is not None and row["top"] is not None else key
        below = bisect.bisect_left(given, key + RUN_WINDOW)
        batch_top = given[below - 1] if below and given[below - 1] >= key else key
        after = max(int(table_top), batch_top) + 1
        if after < key + RUN_WINDOW:
            return after
        key = after  # the window is full to its end: is the next key taken too?
        cursor.execute("SELECT 1 FROM users WHERE seq = %s", (key,))
        if cursor.fetchone() is None and not _holds(given, key):
            return key


def _holds(given: list[int], key: int) -> bool:
    at = bisect.bisect_left(given, key)
    return at < len(given) and given[at] == key


def _user_row(event: Any, seq: int) -> tuple[Any, ...]:
    invitation = event.invitation or {}
    return (
        seq,
        str(event.originator_id),
        event.originator_version,
        *personal_columns(
            event.originator_id, event.first_name, event.last_name, event.email, event.username
        ),
        iso(created_at(event)),
        str(event.status),
        iso(created_at(event)),
        _text(invitation.get("id")),
        _iso(invitation.get("issued_at")),
        _iso(invitation.get("expires_at")),
        to_json([str(g) for g in event.group_ids]),
        to_json(event.permissions),
        _text(event.import_batch_id),
    )


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None


def _iso(value: Any) -> str | None:
    return iso(value) if value is not None else None
