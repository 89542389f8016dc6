"""Search benchmark: seeds N users through the domain and the projections, serves them with
the real server, and times `users(search:)` over HTTP against a bare SQLite FTS5 trigram table
(and, for terms of 1 or 2 characters, a bare table of word starts) holding the same rows.
Timings are printed for comparison, never asserted.

    .venv/bin/python bench/search.py --users 100000 [--database-url URL] [--reuse]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import os
import random
import secrets
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bootstrap import Services, build_services  # noqa: E402
from domain.application import NewUser, Saved  # noqa: E402
from domain.profiles import Profile  # noqa: E402
from domain.statuses import StatusChangeSource  # noqa: E402
from projections.encoding import fold  # noqa: E402
from projections.user_words import word_starts  # noqa: E402
from settings import Settings  # noqa: E402
from tokens import issue_token  # noqa: E402

# Most common first: names and domains are drawn with Zipf-like weights in this order.
FIRST = """Maria James José Anna Mohammed Wei John Sofia Luca Emma Olivia Noah Liam Ana Juan
Carlos Laura David Sarah Michael Ahmed Fatima Yuki Hiroshi Zoë Chloé Léa Hélène François Jürgen
Björn Søren Łukasz Małgorzata Zoltán Ágnes Dávid Iñaki Núria Óscar Thérèse Renée Gaëlle Anaïs
Jörg Günter Åsa Märta Ólafur Siobhán Seán Niamh Aoife Ciarán Dorothée Kristýna Tomáš Jiří Ömer
Çağla Şükrü Ines Inês João Sebastián Álvaro Ramón Mónica Raúl Przemysław Zdeněk Dragoș Ștefan
Ľubomír Pál Vuk Miloš Dušan Priya Arjun Kenji Aiko Mei Lin Olga Ivan Elena Dmitri Nikolai Grace
Henry Oliver Amelia Isla Jack Freya Hugo Astrid Lars Ingrid Pieter Femke Bram Sven Kai Mateo
Valentina Camila Diego Lucía Martina Leonardo Giulia Francesca Matteo Chiara Aurélien""".split()  # noqa: SIM905
LAST = """Smith García Müller Johnson Nguyen Wang Martínez Schmidt Brown Rossi O'Brien Kowalski
Nowak Fernández López González Pérez Sánchez Rodríguez Gómez Díaz Hernández Jiménez Moreno
Schneider Fischer Weber Meyer Wagner Becker Schäfer Koch Böhm Krüger Jäger Weiß Groß Hoffmann
Dubois Lefèvre Lefebvre Girard Faure Moulin Bérénger Chevalier Gauthier Rousseau Bianchi Romano
Colombo Ricci Marino Greco Esposito Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson
Persson Svensson Gustafsson Jensen Nielsen Hansen Pedersen Sørensen Jørgensen Lindqvist Åberg
Öberg Wiśniewski Wójcik Kamiński Lewandowski Zieliński Szymański Woźniak Dąbrowski Kozłowski
Novák Dvořák Černý Procházka Kučera Horváth Nagy Tóth Szabó Kovács Yılmaz Kaya Demir Şahin Çelik
Öztürk Popescu Ionescu Petrović Jovanović Nikolić Đorđević Ivanov Smirnov Kuznetsov Tanaka Suzuki
Takahashi Watanabe Kim Lee Park Chen Li Zhang Liu Patel Sharma Singh Kumar Khan Ali Hassan
O'Connor O'Neill MacDonald McCarthy Murphy Kelly Walsh Byrne Taylor Williams Jones Davies Evans
Jansen Bakker Visser Smit Meijer Mulder Peeters Janssens Silva Santos Oliveira Souza Pereira
Costa Carvalho Almeida Ribeiro Gonçalves Magalhães Araújo Ó'Súilleabháin""".split()  # noqa: SIM905, RUF001
WORDS = """acme globex initech umbrella hooli stark wayne wonka cyberdyne tyrell soylent massive
gringotts oscorp aperture vandelay duff monarch nakatomi blueriver northwind contoso fabrikam
tailspin litware adatum proseware wingtip fourthcoffee lucerne""".split()  # noqa: SIM905
SUFFIXES = ["", "-corp", "-labs", "-group", "mail", "-tech", "-eu", "-bank", "-health", "-uni"]
TLDS = ["com", "de", "fr", "es", "pl", "se", "co.uk", "io", "org", "nl"]
DOMAINS = [
    f"{w}{s}.{TLDS[(i + j) % 10]}" for j, s in enumerate(SUFFIXES) for i, w in enumerate(WORDS)
]
# Columns: class (16 characters), share of the searches (2), fixed terms if any.
TERM_CLASSES = """
common name     16  Maria James José Anna Mohammed Wei John Sofia smith GARCIA Müller nguyen
rare name       10  Aurélien Chiara Matteo Valentina Mateo Kai Ó'Súilleabháin Araújo Magalhães
surname         16
partial surname 10  mül sson ović ovic ski sen berg ández ann chev
accent folding  10  jose José MÜLL muller zoe Zoë lukasz Łukasz o'brien francois søren bjorn đorđe
email domain    10
username        14
1-2 chars        5  a e li jo ö é ma x kj '
no match         9  qqzx xylophone zzz@nowhere bjørnqvist łłł @example.invalid
"""
CLASSES = {
    line[:16].strip(): (int(line[16:18]), line[18:].split())
    for line in TERM_CLASSES.strip().splitlines()
}
SHORT = "1-2 chars"
SWEEP = "1-2 char sweep"  # every term of 1 or 2 characters in turn, apart from the mix
PERCENTILES = (50, 95, 99)
QUERY = """query Search($term: String!) { users(search: $term, first: 50) {
  totalCount edges { node { id name email username status createdAt } } } }"""
BARE_TABLES = [
    "CREATE TABLE people (seq INTEGER PRIMARY KEY, id TEXT, first_name TEXT, last_name TEXT,"
    " email TEXT, username TEXT, status TEXT, created_at TEXT)",
    "CREATE VIRTUAL TABLE t USING fts5(search_text, tokenize='trigram')",
    "CREATE TABLE words (prefix TEXT, seq INTEGER, PRIMARY KEY (prefix, seq)) WITHOUT ROWID",
]
COLUMNS = "seq, id, first_name, last_name, email, username, status, created_at, search_text"


@dataclass
class Timings:
    by_class: dict[str, list[float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def of(self, kind: str) -> list[float]:
        """One class, the SWEEP, or of the mix "overall" or "overall 3+ chars" (without the
        1-2 character terms)."""
        if kind in self.by_class:
            return self.by_class[kind]
        return [
            t
            for k, ts in self.by_class.items()
            if k in CLASSES and (kind == "overall" or k != SHORT)
            for t in ts
        ]

    def add(self, other: Timings) -> None:
        self.by_class |= other.by_class
        self.counts |= other.counts


def zipf(n: int, s: float) -> list[float]:
    """Cumulative weights: rank 1 is the most common, the tail stays rare but present."""
    return list(itertools.accumulate(1 / (rank + 1) ** s for rank in range(n)))


def ascii_of(text: str) -> str:
    bare = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in bare.lower() if ch.isalnum())


def people(n: int, seed: int) -> Iterator[NewUser]:
    """Reproducible users; local parts repeat across domains, so usernames get -2, -3..."""
    rng, used = random.Random(seed), set[str]()
    first_w, last_w, domain_w = zipf(len(FIRST), 0.6), zipf(len(LAST), 0.6), zipf(len(DOMAINS), 0.8)
    for _ in range(n):
        first = rng.choices(FIRST, cum_weights=first_w)[0]
        last = rng.choices(LAST, cum_weights=last_w)[0]
        f, la = ascii_of(first), ascii_of(last)
        local = rng.choice([f"{f}.{la}", f"{f}.{la}", f"{f}.{la}", f"{f[0]}{la}", f"{f}{la[0]}"])
        if rng.random() < 0.9:
            local += str(rng.randint(1, 9999))
        email = f"{local}@{rng.choices(DOMAINS, cum_weights=domain_w)[0]}"
        while email.lower() in used:
            email = f"{local}.{rng.randint(1, 99999)}@{email.split('@')[1]}"
        used.add(email.lower())
        yield NewUser(first_name=first, last_name=last, email=email)


def seed(services: Services, n: int, seed_value: int) -> None:
    write = project = 0.0
    refused, batch = 0, list[NewUser]()
    for index, new in enumerate(people(n, seed_value), 1):
        batch.append(new)
        if len(batch) < 1000 and index < n:
            continue
        started = time.perf_counter()
        outcomes = services.roster.register_users(
            batch, actor="bench", source=StatusChangeSource.IMPORT
        ).outcomes
        write += time.perf_counter() - started
        refused, batch = refused + sum(not isinstance(o, Saved) for o in outcomes), []
        if index % 25_000 == 0 or index == n:
            started = time.perf_counter()
            services.read_model.catch_up()
            project += time.perf_counter() - started
            print(f"  {index:>9,} users   events {write:6.1f} s   projection {project:6.1f} s")
    print(
        f"Seeded {n:,} users ({refused} refused) in {write + project:.1f} s: events "
        f"{n / write:,.0f} users/s, projection {n / project:,.0f} users/s, "
        f"together {n / (write + project):,.0f} users/s"
    )


def store_url(args: argparse.Namespace) -> str:
    """An absolute SQLite path (the server runs elsewhere); the default file is made afresh
    unless --reuse."""
    url: str = args.database_url or f"sqlite:///data/bench-{args.users}.db"
    if not url.startswith("sqlite:///"):
        return url
    path = Path(url.removeprefix("sqlite:///")).resolve()
    if args.database_url is None and not args.reuse:
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
    return f"sqlite:///{path}"


def ensure_users(services: Services, args: argparse.Namespace) -> None:
    services.read_model.catch_up()
    with services.database.reading() as cursor:
        cursor.execute("SELECT count(*) AS n FROM users")
        have = int((cursor.fetchone() or {"n": 0})["n"])
    if have and not (args.reuse and have == args.users):
        raise SystemExit(
            f"The database holds {have:,} users: pass --reuse --users {have}, or "
            "give a fresh --database-url."
        )
    if have:
        print(f"Reusing {have:,} users.")
    else:
        seed(services, args.users, args.seed)


def database_size(url: str) -> int:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT pg_database_size(current_database())").fetchone()
    return int(row[0]) if row else 0


def sample_usernames(services: Services, rng: random.Random, k: int) -> list[str]:
    """Usernames of random users, a third of them with a -2 suffix."""
    with services.database.reading() as cursor:
        cursor.execute("SELECT username FROM users WHERE username LIKE %s LIMIT %s", ("%-2", k))
        names = [row["username"] for row in cursor.fetchall()][: k // 3]
        cursor.execute("SELECT max(seq) AS top FROM users")
        top = int((cursor.fetchone() or {"top": 1})["top"])
        for _ in range(k - len(names)):
            cursor.execute(
                "SELECT username FROM users WHERE seq >= %s ORDER BY seq LIMIT 1",
                (rng.randint(1, top),),
            )
            names += [row["username"] for row in cursor.fetchall()]
    return names


def choose_terms(services: Services, count: int, seed_value: int) -> list[tuple[str, str]]:
    """`count` (class, term) pairs, drawn reproducibly from the classes' shares."""
    rng, pool = random.Random(seed_value), {kind: terms for kind, (_, terms) in CLASSES.items()}
    pool["surname"] = [rng.choice([n, n.lower(), n.upper()]) for n in rng.sample(LAST, 30)]
    domains = rng.sample(DOMAINS, 12)
    pool["email domain"] = [f"@{w}" for w in WORDS[:8]] + [d.split(".")[0] for d in domains]
    pool["username"] = sample_usernames(services, rng, 30)
    kinds = rng.choices(list(CLASSES), weights=[share for share, _ in CLASSES.values()], k=count)
    return [(kind, rng.choice(pool[kind])) for kind in kinds]


def sweep_terms(count: int, seed_value: int) -> list[tuple[str, str]]:
    """`count` searches of 1 or 2 characters, every such term in turn (shuffled): each
    letter and a few digits, accented letters, punctuation, and the first two letters of
    every name and domain word (the most common starts of words)."""
    starts = {fold(word)[:2] for word in (*FIRST, *LAST, *WORDS, *TLDS)}
    single = [chr(c) for c in range(ord("a"), ord("z") + 1)] + list("019éöøłß'@.-")
    terms = sorted(set(single) | {s for s in starts if len(s) == 2} | set(CLASSES[SHORT][1]))
    random.Random(seed_value).shuffle(terms)
    return [(SWEEP, terms[i % len(terms)]) for i in range(count)]


def measure(search: Callable[[str], int], terms: list[tuple[str, str]], warmup: int) -> Timings:
    timings = Timings()
    for index, (kind, term) in enumerate(terms):
        started = time.perf_counter()
        timings.counts[term] = search(term)
        elapsed_ms = (time.perf_counter() - started) * 1000
        if index >= warmup:
            timings.by_class.setdefault(kind, []).append(elapsed_ms)
    return timings


@contextmanager
def running_server(url: str, secret: str, extra: dict[str, str] | None = None) -> Iterator[str]:
    """`uvicorn server:app` in a subprocess configured by its environment; yields its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTER_")}
    env |= {"ROSTER_DATABASE_URL": url, "ROSTER_JWT_SECRET": secret, **(extra or {})}
    command = [
        sys.executable,
        *("-m", "uvicorn", "server:app", "--port", str(port)),
        *("--ws-per-message-deflate", "false"),  # as README says to run it
    ]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [*command, "--log-level", "warning"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
        try:
            wait_until_healthy(f"http://127.0.0.1:{port}", process, log)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # still draining connections: not left behind
                process.kill()
                process.wait()


def wait_until_healthy(base: str, process: subprocess.Popen[bytes], log: Any) -> None:
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    log.seek(0)
    raise SystemExit(f"The server did not start:\n{log.read().decode()[-3000:]}")


def server_search(client: httpx.Client) -> Callable[[str], int]:
    def search(term: str) -> int:
        response = client.post("/graphql", json={"query": QUERY, "variables": {"term": term}})
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise SystemExit(f"Search for {term!r} failed: {response.text[:500]}")
        return int(body["data"]["users"]["totalCount"])

    return search


def build_bare(services: Services, path: Path) -> sqlite3.Connection:
    """The projection's rows in a plain table plus a standalone FTS5 trigram table and a
    table of word starts as projections.user_words keeps them."""
    bare = sqlite3.connect(path)
    bare.execute("PRAGMA cache_size=-65536")  # as the server's connections
    for statement in BARE_TABLES:
        bare.execute(statement)
    rows: list[tuple[Any, ...]] = [(0,)]
    query = f"SELECT {COLUMNS} FROM users WHERE seq > %s ORDER BY seq LIMIT 20000"
    while rows:
        with services.database.reading() as cursor:
            cursor.execute(query, (rows[-1][0],))
            rows = [tuple(row.values()) for row in cursor.fetchall()]
        bare.executemany(
            "INSERT INTO people VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [r[:8] for r in rows]
        )
        bare.executemany(
            "INSERT INTO t (rowid, search_text) VALUES (?, ?)", [(r[0], r[8]) for r in rows]
        )
        bare.executemany(
            "INSERT INTO words (prefix, seq) VALUES (?, ?)",
            [(start, r[0]) for r in rows for start in word_starts(r[8])],
        )
    bare.commit()
    return bare


def bare_search(bare: sqlite3.Connection) -> Callable[[str], int]:
    """The floor for the server's search: the folded term as an FTS5 phrase (under three
    characters, a word start in the table of word starts), the newest 50 matches and the
    count of all of them."""

    def search(term: str) -> int:
        folded = fold(term.strip())
        if len(folded) >= 3:
            index, where, seq = "t", "t MATCH ?", "t.rowid"
            param = '"' + folded.replace('"', '""') + '"'
        else:
            index, where, seq, param = "words", "words.prefix = ?", "words.seq", folded
        bare.execute(
            f"SELECT p.* FROM {index} JOIN people p ON p.seq = {seq} WHERE {where}"
            f" ORDER BY {seq} DESC LIMIT 51",
            (param,),
        ).fetchall()
        row = bare.execute(f"SELECT count(*) FROM {index} WHERE {where}", (param,)).fetchone()
        return int(row[0])

    return search


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def report(server: Timings, bare: Timings) -> None:
    def stats(values: list[float]) -> str:
        return " ".join(f"{pct(values, p):6.1f}" for p in (*PERCENTILES, 100))

    def ratios(ours: list[float], theirs: list[float]) -> str:
        return " ".join(f"{pct(ours, p) / max(pct(theirs, p), 0.01):5.1f}" for p in PERCENTILES)

    head = " ".join(f"{p:>6}" for p in ("p50", "p95", "p99", "max"))
    print(
        f"\n{'ms':<16} {'n':>4} | server {head} | bare   {head} | server/bare"
        f" {' '.join(f'{p:>5}' for p in ('p50', 'p95', 'p99'))}"
    )
    kinds = [*(k for k in CLASSES if k in server.by_class), "overall", "overall 3+ chars"]
    if SWEEP in server.by_class:
        kinds.append(SWEEP)
    for kind in kinds:
        ours, theirs = server.of(kind), bare.of(kind)
        print(
            f"{kind:<16} {len(ours):>4} | {stats(ours):>34} | {stats(theirs):>34} |"
            f" {ratios(ours, theirs):>29}"
        )
    wrong = sorted(t for t, n in server.counts.items() if bare.counts.get(t) != n)
    print(f"Terms whose totalCount differs from the bare count: {len(wrong)} {wrong[:5]}")


def slowest(server: Timings, sweep: list[tuple[str, str]], shown: int = 8) -> None:
    """The SWEEP's terms of the highest median time, with their number of matches."""
    times: dict[str, list[float]] = {}
    for (_, term), elapsed in zip(sweep, server.by_class.get(SWEEP, []), strict=True):
        times.setdefault(term, []).append(elapsed)
    if not times:
        return
    worst = sorted(times, key=lambda term: -pct(times[term], 50))
    print(f"Slowest of the {len(times)} terms of 1-2 characters (median ms, matches):")
    print(
        "  "
        + "   ".join(f"{t!r} {pct(times[t], 50):.1f} ({server.counts[t]:,})" for t in worst[:shown])
    )


def targets(server: Timings, bare: Timings, users: int, store: str) -> None:
    ours, theirs = server.of("overall"), bare.of("overall")
    checks = [
        ("server p50 <= 10 ms", pct(ours, 50), 10.0),
        ("server p99 <= 50 ms", pct(ours, 99), 50.0),
        ("  the same, 3+ chars", pct(server.of("overall 3+ chars"), 99), 50.0),
        ("p50 server/bare <= 3x", pct(ours, 50) / pct(theirs, 50), 3.0),
        ("p99 server/bare <= 3x", pct(ours, 99) / pct(theirs, 99), 3.0),
    ]
    if SWEEP in server.by_class:
        checks.insert(3, ("  the same, 1-2 chars", pct(server.of(SWEEP), 99), 50.0))
    print(f"\nTargets (set for SQLite at 1,000,000 users; this run: {users:,} on {store}):")
    for label, value, limit in checks:
        print(f"  {label:<24} {value:8.2f}   {'met' if value <= limit else 'NOT met'}")


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000, help="users to seed (100000)")
    parser.add_argument(
        "--database-url",
        help="sqlite:///path or postgresql://... (default: a fresh data/bench-<users>.db)",
    )
    parser.add_argument("--queries", type=int, default=400, help="measured searches (400)")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured searches first (50)")
    parser.add_argument(
        "--sweep",
        type=int,
        default=400,
        help="more searches, apart from the mix: every term of 1-2 characters in turn (400)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of users and terms (1)")
    parser.add_argument("--reuse", action="store_true", help="keep a database of --users users")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    url, secret = store_url(args), secrets.token_urlsafe(48)
    settings = Settings.from_env({"ROSTER_DATABASE_URL": url, "ROSTER_JWT_SECRET": secret})
    services = build_services(settings)
    with tempfile.TemporaryDirectory() as scratch:
        try:
            ensure_users(services, args)
            print(f"Database size: {database_size(url) / 2**20:,.1f} MiB ({url})")
            terms = choose_terms(services, args.warmup + args.queries, args.seed)
            sweep = sweep_terms(args.sweep, args.seed)
            bare = build_bare(services, Path(scratch) / "bare.db")
        finally:
            services.close()
        viewer = [Profile.USER_MANAGEMENT_VIEWER]
        token = issue_token(settings, subject="bench", profiles=viewer, ttl=timedelta(hours=2))
        headers = {"authorization": f"Bearer {token}"}
        with (
            running_server(url, secret) as base,
            httpx.Client(base_url=base, headers=headers, timeout=120) as c,
        ):
            server = measure(server_search(c), terms, args.warmup)
            server.add(measure(server_search(c), sweep, 0))
        baseline = measure(bare_search(bare), terms, args.warmup)
        baseline.add(measure(bare_search(bare), sweep, 0))
        bare.close()
    report(server, baseline)
    slowest(server, sweep)
    targets(server, baseline, args.users, "PostgreSQL" if settings.store.is_postgres else "SQLite")


if __name__ == "__main__":
    main()
