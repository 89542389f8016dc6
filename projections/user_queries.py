"""Reading the user list: look-ups, search, filters, sorting and keyset pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.values import email_key
from projections.database import Cursor, Dialect, Row, marks
from projections.encoding import fold, from_iso, from_json
from projections.paging import Page, decode_cursor, encode_cursor, page_of

#: Sort field -> the column that orders it (ties are broken by `seq`).
SORT_COLUMNS = {
    "CREATED_AT": "seq",  # seq is creation order (see projections.users.created_order)
    "NAME": "name_sort",
    "EMAIL": "email_key",
    "USERNAME": "username_key",
    "STATUS": "status",
}
#: Trigram indexes need at least three characters; a shorter term matches the start of
#: a word through `user_words` (projections.user_words).
MIN_INDEXED_SEARCH = 3
#: How many users of another order than creation a search of 1 or 2 characters looks
#: through for its page before it reads all its matches instead (see `_walked`).
WALK = 2000
#: A search of 1 or 2 characters with a status filter holding fewer users than this
#: looks each of them up rather than read the term's matches (see `_matching`).
FEW = 2000
#: Per source of `_matching`: its seq column, which its driving index reads in order.
_SEQ = {"users": "u.seq", "users_search": "users_search.rowid", "user_words": "w.seq"}


@dataclass(frozen=True)
class UserRow:
    seq: int
    id: str
    first_name: str
    last_name: str
    email: str
    username: str
    created_at: datetime
    status: str
    status_changed_at: datetime
    invitation_issued_at: datetime | None
    invitation_expires_at: datetime | None
    invitation_sent_at: datetime | None
    invitation_accepted_at: datetime | None
    invitation_delivery_failed_at: datetime | None
    invitation_delivery_error: str | None
    group_ids: list[str]
    permissions: list[str]
    import_batch_id: str | None
    sort_values: dict[str, Any]


@dataclass(frozen=True)
class UserFilter:
    search: str | None = None
    statuses: tuple[str, ...] = ()
    #: Only the users this import batch registered.
    import_batch_id: str | None = None


def users_by_ids(cursor: Cursor, ids: list[str]) -> dict[str, UserRow]:
    if not ids:
        return {}
    cursor.execute(f"SELECT * FROM users WHERE id IN ({marks(ids)})", ids)
    return {row["id"]: _user(row) for row in cursor.fetchall()}


def user_by_email(cursor: Cursor, email: str) -> UserRow | None:
    try:
        key = email_key(email.strip())
    except ValueError:
        return None
    cursor.execute("SELECT * FROM users WHERE email_key = %s", (key,))
    row = cursor.fetchone()
    return _user(row) if row else None


def list_users(
    cursor: Cursor,
    dialect: Dialect,
    where: UserFilter,
    sort: tuple[str, str],
    first: int,
    after: str | None,
) -> Page[UserRow]:
    field, direction = sort
    column = SORT_COLUMNS[field]
    kind = f"users:{field}:{direction}"
    last = decode_cursor(kind, after, 2) if after is not None else None
    found = None
    if _short(where) and column != "seq" and not _few_in(cursor, where.statuses):
        found = _walked(cursor, dialect, where, (column, direction), last, first + 1)
    if found is None:
        found = _matches(cursor, dialect, where, (column, direction), last, first + 1)
    rows = [_user(row) for row in found]
    return page_of(rows, first, lambda u: encode_cursor(kind, [u.sort_values[column], u.seq]))


def _matches(
    cursor: Cursor,
    dialect: Dialect,
    where: UserFilter,
    order_by: tuple[str, str],
    last: list[Any] | None,
    limit: int,
) -> list[Row]:
    """The first `limit` users `where` asks for in the order of (column, direction) after
    the `last` key, read from the search's index (if any) and sorted."""
    column, direction = order_by
    if column == "seq" and direction == "DESC" and _indexed(dialect, where):
        source, clauses, params = _newest_matches(where, below=last[1] if last else None)
        keys = ["u.seq"]
    else:
        source, clauses, params = _matching(cursor, dialect, where)
        # In creation order, sort by the driving index's own seq (the trigram index's rowid
        # oldest first, user_words' seq either way): the database then reads matches in
        # order and stops after one page instead of sorting all.
        seq = _SEQ[source.split()[0]]
        keys = [seq] if column == "seq" else [f"u.{column}", seq]
        if last is not None:
            given = last[1:] if column == "seq" else last
            clauses.append(f"({', '.join(keys)}) {_after(direction)} ({marks(given)})")
            params += given
    order = ", ".join(f"{key} {direction}" for key in keys)
    cursor.execute(
        f"SELECT u.* FROM {source} {_where(clauses)} ORDER BY {order} LIMIT %s",
        [*params, limit],
    )
    return cursor.fetchall()


def _walked(
    cursor: Cursor,
    dialect: Dialect,
    where: UserFilter,
    order_by: tuple[str, str],
    last: list[Any] | None,
    limit: int,
) -> list[Row] | None:
    """For a search of 1 or 2 characters in another order than creation: the first `limit`
    matches among the next WALK users of that order's index (each looked up in
    user_words), or None when fewer are there.

    A common start fills a page within a few hundred users (a third of the users have a
    word starting with "c"), where reading all its matches and sorting them would take a
    quarter of a second at a million users. A rare start falls back to reading its few
    matches (`_matches`), after at most WALK look-ups."""
    column, direction = order_by
    after = _after(direction)
    order = f"{direction}, seq {direction} LIMIT %s"
    keyed = f"SELECT {column} AS k, seq FROM users"
    params: list[Any]
    if last is None:
        walk, params = f"{keyed} ORDER BY k {order}", [WALK]
    elif dialect == "sqlite":
        # Two ranges, not ({column}, seq) > (%s, %s): SQLite seeks by that row value on
        # its first column only (seq is the rowid), so a page of users sorted by status
        # would walk every user of the cursor's status before it.
        walk = (
            f"{keyed} WHERE {column} = %s AND seq {after} %s"
            f" UNION ALL {keyed} WHERE {column} {after} %s ORDER BY k {order}"
        )
        params = [last[0], last[1], last[0], WALK]
    else:  # PostgreSQL seeks by the row value, and would sort both ranges whole
        walk = f"{keyed} WHERE ({column}, seq) {after} (%s, %s) ORDER BY k {order}"
        params = [*last, WALK]
    clauses = [_has_word("walk.seq", dialect)]
    params.append(_term(where))
    _in_statuses(where, clauses, params)
    join = "CROSS JOIN" if dialect == "sqlite" else "JOIN"  # see `_matching`
    cursor.execute(
        f"SELECT u.* FROM ({walk}) AS walk {join} users u ON u.seq = walk.seq"
        f" {_where(clauses)} ORDER BY walk.k {direction}, walk.seq {direction} LIMIT %s",
        [*params, limit],
    )
    rows = cursor.fetchall()
    return rows if len(rows) == limit else None


def count_users(cursor: Cursor, dialect: Dialect, where: UserFilter) -> int:
    # Every indexed row is a user: without a status filter, count the index's matches
    # without visiting users.
    unfiltered = not where.statuses and where.import_batch_id is None
    if _indexed(dialect, where) and unfiltered:
        cursor.execute(
            "SELECT count(*) AS n FROM users_search WHERE users_search MATCH %s",
            [_phrase(_term(where))],
        )
    elif _short(where) and unfiltered:
        cursor.execute("SELECT count(*) AS n FROM user_words WHERE prefix = %s", [_term(where)])
    else:
        source, clauses, params = _matching(cursor, dialect, where)
        cursor.execute(f"SELECT count(*) AS n FROM {source} {_where(clauses)}", params)
    row = cursor.fetchone()
    return int(row["n"]) if row else 0


def matching_ids(cursor: Cursor, dialect: Dialect, where: UserFilter) -> list[str]:
    """The ids of every user `where` asks for, oldest first (a bulk action's users)."""
    source, clauses, params = _matching(cursor, dialect, where)
    cursor.execute(f"SELECT u.id FROM {source} {_where(clauses)} ORDER BY u.seq", params)
    return [row["id"] for row in cursor.fetchall()]


def _matching(
    cursor: Cursor, dialect: Dialect, where: UserFilter
) -> tuple[str, list[str], list[Any]]:
    """FROM clause, conditions and parameters selecting the users `where` asks for."""
    source, clauses, params = "users u", [], []
    term = _term(where)
    if _indexed(dialect, where):
        # The trigram index drives: CROSS JOIN keeps it the outer loop.
        source = "users_search CROSS JOIN users u ON u.seq = users_search.rowid"
        clauses.append("users_search MATCH %s")
        params.append(_phrase(term))
    elif _short(where) and _few_in(cursor, where.statuses):
        # Few users in these statuses (the deactivated ones, say): each is looked up in
        # user_words, where the term's matches could be a third of all users.
        clauses.append(_has_word("u.seq", dialect))
        params.append(term)
    elif _short(where):
        # The start of a word: one range of user_words' key drives, each match looked up
        # in users. SQLite keeps CROSS JOIN's order; PostgreSQL, which by its statistics
        # may rather walk a sort order's index through every user, is held to it by a
        # LATERAL subquery it cannot merge (OFFSET 0).
        if dialect == "sqlite":
            source = "user_words w CROSS JOIN users u ON u.seq = w.seq"
        else:
            source = (
                "user_words w CROSS JOIN LATERAL"
                " (SELECT * FROM users WHERE users.seq = w.seq OFFSET 0) u"
            )
        clauses.append("w.prefix = %s")
        params.append(term)
    elif term:
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append("u.search_text LIKE %s")  # pg_trgm's GIN index from 3 characters
        params.append(f"%{escaped}%")
    _in_statuses(where, clauses, params)
    return source, clauses, params


def _newest_matches(where: UserFilter, *, below: int | None) -> tuple[str, list[str], list[Any]]:
    """Like `_matching` for an indexed search newest first (before the user keyed `below`,
    if given): the trigram index is asked for its matches as a set, walking forwards, and
    users are read from the newest of that set down.

    The index must not be walked backwards (`ORDER BY users_search.rowid DESC`): SQLite
    3.40's FTS5, the one Python's sqlite3 links here (Debian 12), loses matches on that
    walk. Stepping back through a doclist index, it finds where the previous entry starts
    by the bytes' high bits, but a 9-byte varint (a gap of 2**56 or more between the first
    rowids of two pages) may end on a byte with that bit set: it then reads from inside a
    number and skips pages. `seq` is microseconds times 1024 plus the place among users
    of one microsecond, so users created years apart on dates other users share (a legacy
    import's) make such gaps: after importing 300,000, 458 of 3,000 sampled users were
    not found by their own email. Later SQLite walks it right, but a second SQLite in this
    process (a wheel's) beside the event store's would break the file's POSIX locks.
    Counting the matches walks them all anyway; this reads them too (about 2 ms for
    16,000 matches)."""
    bound = " AND rowid < %s" if below is not None else ""
    clauses = [f"u.seq IN (SELECT rowid FROM users_search WHERE users_search MATCH %s{bound})"]
    params: list[Any] = [_phrase(_term(where)), *([below] if below is not None else [])]
    _in_statuses(where, clauses, params)
    return "users u", clauses, params


def _has_word(seq: str, dialect: Dialect) -> str:
    """The condition that the user keyed `seq` has a word starting with the term (the
    parameter), one look-up in user_words. PostgreSQL would rather read the term's whole
    range (up to a third of the users) into a hash: OFFSET 0 keeps it a look-up."""
    fence = "" if dialect == "sqlite" else " OFFSET 0"
    return f"EXISTS (SELECT 1 FROM user_words w WHERE w.prefix = %s AND w.seq = {seq}{fence})"


def _few_in(cursor: Cursor, statuses: tuple[str, ...]) -> bool:
    """Whether a status filter is given and fewer than FEW users are in its statuses
    (counted no further)."""
    if not statuses:
        return False
    cursor.execute(
        f"SELECT count(*) AS n FROM (SELECT 1 FROM users WHERE status IN ({marks(statuses)})"
        " LIMIT %s) AS listed",
        [*statuses, FEW],
    )
    row = cursor.fetchone()
    return row is not None and int(row["n"]) < FEW


def _in_statuses(where: UserFilter, clauses: list[str], params: list[Any]) -> None:
    if where.statuses:
        clauses.append(f"u.status IN ({marks(where.statuses)})")
        params += list(where.statuses)
    if where.import_batch_id is not None:
        clauses.append("u.import_batch_id = %s")
        params.append(where.import_batch_id)


def _indexed(dialect: Dialect, where: UserFilter) -> bool:
    """Whether the search is one for SQLite's trigram index (on PostgreSQL, pg_trgm's
    index serves the LIKE of `_matching`)."""
    return dialect == "sqlite" and len(_term(where)) >= MIN_INDEXED_SEARCH


def _short(where: UserFilter) -> bool:
    """Whether the search is for the start of a word (see projections.user_words)."""
    return 0 < len(_term(where)) < MIN_INDEXED_SEARCH


def _term(where: UserFilter) -> str:
    return fold(where.search.strip()) if where.search else ""


def _phrase(term: str) -> str:
    """An FTS5 phrase: with the trigram tokenizer, a substring match."""
    return '"' + term.replace('"', '""') + '"'


def _after(direction: str) -> str:
    """The comparison that keeps the keys after a cursor's in this direction."""
    return "<" if direction == "DESC" else ">"


def _where(clauses: list[str]) -> str:
    return f"WHERE {' AND '.join(clauses)}" if clauses else ""


def _user(row: dict[str, Any]) -> UserRow:
    return UserRow(
        seq=int(row["seq"]),
        id=row["id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        email=row["email"],
        username=row["username"],
        created_at=_at(row["created_at"]),
        status=row["status"],
        status_changed_at=_at(row["status_changed_at"]),
        invitation_issued_at=from_iso(row["invitation_issued_at"]),
        invitation_expires_at=from_iso(row["invitation_expires_at"]),
        invitation_sent_at=from_iso(row["invitation_sent_at"]),
        invitation_accepted_at=from_iso(row["invitation_accepted_at"]),
        invitation_delivery_failed_at=from_iso(row["invitation_delivery_failed_at"]),
        invitation_delivery_error=row["invitation_delivery_error"],
        group_ids=from_json(row["group_ids"]),
        permissions=from_json(row["permissions"]),
        import_batch_id=row["import_batch_id"],
        sort_values={column: row[column] for column in SORT_COLUMNS.values()},
    )


def _at(text: str) -> datetime:
    moment = from_iso(text)
    assert moment is not None
    return moment
