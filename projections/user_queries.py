"""Reading the user list: look-ups, search, filters, sorting and keyset pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.values import email_key
from projections.database import Cursor, Dialect
from projections.encoding import fold, from_iso, from_json
from projections.paging import Page, decode_cursor, encode_cursor, page_of

#: Sort field -> the column that orders it (ties are broken by `seq`).
SORT_COLUMNS = {
    "CREATED_AT": "created_at",
    "NAME": "name_sort",
    "EMAIL": "email_key",
    "USERNAME": "username_key",
    "STATUS": "status",
}
MIN_INDEXED_SEARCH = 3  # trigram indexes need at least three characters


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
    group_ids: list[str]
    permissions: list[str]
    import_batch_id: str | None
    sort_values: dict[str, Any]


@dataclass(frozen=True)
class UserFilter:
    search: str | None = None
    statuses: tuple[str, ...] = ()


def users_by_ids(cursor: Cursor, ids: list[str]) -> dict[str, UserRow]:
    if not ids:
        return {}
    marks = ", ".join(["%s"] * len(ids))
    cursor.execute(f"SELECT * FROM users WHERE id IN ({marks})", ids)
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
    clauses, params = _filters(dialect, where)
    if after is not None:
        value, seq = decode_cursor(f"users:{field}:{direction}", after, 2)
        clauses.append(f"({column}, seq) {'<' if direction == 'DESC' else '>'} (%s, %s)")
        params += [value, seq]
    cursor.execute(
        f"SELECT * FROM users {_where(clauses)}"
        f" ORDER BY {column} {direction}, seq {direction} LIMIT %s",
        [*params, first + 1],
    )
    rows = [_user(row) for row in cursor.fetchall()]
    kind = f"users:{field}:{direction}"
    return page_of(rows, first, lambda u: encode_cursor(kind, [u.sort_values[column], u.seq]))


def count_users(cursor: Cursor, dialect: Dialect, where: UserFilter) -> int:
    clauses, params = _filters(dialect, where)
    cursor.execute(f"SELECT count(*) AS n FROM users {_where(clauses)}", params)
    row = cursor.fetchone()
    return int(row["n"]) if row else 0


def _filters(dialect: Dialect, where: UserFilter) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    term = fold(where.search.strip()) if where.search else ""
    if term:
        clause, param = _search(dialect, term)
        clauses.append(clause)
        params.append(param)
    if where.statuses:
        clauses.append(f"status IN ({', '.join(['%s'] * len(where.statuses))})")
        params += list(where.statuses)
    return clauses, params


def _search(dialect: Dialect, term: str) -> tuple[str, str]:
    """A substring match that uses the trigram index for terms of three characters or more."""
    if dialect == "sqlite":
        if len(term) >= MIN_INDEXED_SEARCH:
            phrase = '"' + term.replace('"', '""') + '"'
            return "seq IN (SELECT rowid FROM users_search WHERE users_search MATCH %s)", phrase
        return "instr(search_text, %s) > 0", term
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return "search_text LIKE %s", f"%{escaped}%"


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
        group_ids=from_json(row["group_ids"]),
        permissions=from_json(row["permissions"]),
        import_batch_id=row["import_batch_id"],
        sort_values={column: row[column] for column in SORT_COLUMNS.values()},
    )


def _at(text: str) -> datetime:
    moment = from_iso(text)
    assert moment is not None
    return moment
