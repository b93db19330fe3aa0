"""Per-user memory: facts, preferences and past questions in a small SQLite file.

Every write is one SQLite transaction in WAL mode with ``synchronous=FULL``, so a crash leaves either
the old or the new state, never a torn one. Both engines use it; ``forget_user`` deletes everything
stored for one user. One connection guarded by a lock: calls are short (sub-millisecond) and may come
from the event loop or from executor threads.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Fact", "MemoryOptions", "MemoryStore", "extract_facts"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS facts (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_s REAL NOT NULL,
    PRIMARY KEY (user_id, key, value)
);
CREATE TABLE IF NOT EXISTS utterances (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    time_s REAL NOT NULL,
    text TEXT NOT NULL,
    intent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS utterances_user ON utterances (user_id, id);
"""

#: Keys holding one value per user (a new value replaces the old); all other keys accumulate values.
SINGLE_VALUED = frozenset({"name", "age", "home", "job", "favourite_color"})


@dataclass(frozen=True)
class Fact:
    """key: "name" | "likes" | "dislikes" | "home" | "job" | "favourite_<thing>" | "note" …; value: text."""

    key: str
    value: str


@dataclass(frozen=True)
class MemoryOptions:
    """path: SQLite file ("" = in memory, gone with the process; ":memory:" likewise).
    max_utterances: past utterances kept per user (oldest dropped)."""

    path: str = ""
    max_utterances: int = 200


class MemoryStore:
    """Facts and utterance history per user ID, in SQLite. Thread-safe."""

    def __init__(self, options: MemoryOptions | str | Path | None = None) -> None:
        if isinstance(options, (str, Path)):
            options = MemoryOptions(path=str(options))
        self.options = o = options or MemoryOptions()
        path = o.path or ":memory:"
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            if path != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.executescript(_SCHEMA)

    @classmethod
    def create_from_options(cls, options: MemoryOptions) -> MemoryStore:
        return cls(options)

    def _write(self, statements: list[tuple[str, tuple[object, ...]]]) -> None:
        with self._lock:
            c = self._conn
            c.execute("BEGIN IMMEDIATE")
            try:
                for sql, args in statements:
                    c.execute(sql, args)
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise

    def remember(self, user_id: str, key: str, value: str) -> None:
        """Stores one fact; for SINGLE_VALUED keys it replaces the previous value."""
        value = value.strip()
        if not value:
            return
        stmts: list[tuple[str, tuple[object, ...]]] = []
        if key in SINGLE_VALUED:
            stmts.append(("DELETE FROM facts WHERE user_id = ? AND key = ?", (user_id, key)))
        if key in ("likes", "dislikes"):  # liking something cancels disliking it, and vice versa
            other = "dislikes" if key == "likes" else "likes"
            stmts.append(("DELETE FROM facts WHERE user_id = ? AND key = ? AND value = ?", (user_id, other, value)))
        stmts.append(
            ("INSERT OR REPLACE INTO facts (user_id, key, value, updated_s) VALUES (?, ?, ?, ?)",
             (user_id, key, value, time.time()))
        )  # fmt: skip
        self._write(stmts)

    def forget(self, user_id: str, key: str, value: str | None = None) -> int:
        """Deletes one key (or one value of it); returns how many facts went."""
        with self._lock:
            if value is None:
                cur = self._conn.execute("DELETE FROM facts WHERE user_id = ? AND key = ?", (user_id, key))
            else:
                cur = self._conn.execute(
                    "DELETE FROM facts WHERE user_id = ? AND key = ? AND value = ?", (user_id, key, value)
                )
            return cur.rowcount

    def facts(self, user_id: str) -> list[Fact]:
        """All facts of a user, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT key, value FROM facts WHERE user_id = ? ORDER BY updated_s, rowid", (user_id,)
            ).fetchall()
        return [Fact(k, v) for k, v in rows]

    def get(self, user_id: str, key: str) -> list[str]:
        """Values of one key, oldest first."""
        return [f.value for f in self.facts(user_id) if f.key == key]

    def add_utterance(self, user_id: str, text: str, intent: str = "") -> None:
        """Appends to the user's history, keeping the newest ``max_utterances``."""
        self._write([
            ("INSERT INTO utterances (user_id, time_s, text, intent) VALUES (?, ?, ?, ?)",
             (user_id, time.time(), text, intent)),
            ("DELETE FROM utterances WHERE user_id = ? AND id NOT IN "
             "(SELECT id FROM utterances WHERE user_id = ? ORDER BY id DESC LIMIT ?)",
             (user_id, user_id, self.options.max_utterances)),
        ])  # fmt: skip

    def utterances(self, user_id: str, limit: int = 10, intent: str | None = None) -> list[tuple[float, str, str]]:
        """The newest ``limit`` utterances [(time_s, text, intent)], oldest first."""
        with self._lock:
            if intent is None:
                rows = self._conn.execute(
                    "SELECT time_s, text, intent FROM utterances WHERE user_id = ? ORDER BY id DESC LIMIT ?",
                    (user_id, limit),
                ).fetchall()
            else:
                rows = self._conn.execute(
                    "SELECT time_s, text, intent FROM utterances WHERE user_id = ? AND intent = ? "
                    "ORDER BY id DESC LIMIT ?",
                    (user_id, intent, limit),
                ).fetchall()
        return [(t, x, i) for t, x, i in reversed(rows)]

    def forget_user(self, user_id: str) -> None:
        """Deletes every fact and utterance stored for ``user_id`` (one transaction)."""
        self._write(
            [
                ("DELETE FROM facts WHERE user_id = ?", (user_id,)),
                ("DELETE FROM utterances WHERE user_id = ?", (user_id,)),
            ]
        )

    def users(self) -> list[str]:
        with self._lock:
            rows = self._conn.execute("SELECT user_id FROM facts UNION SELECT user_id FROM utterances").fetchall()
        return sorted(r[0] for r in rows)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_NAME = r"([a-z][a-z'\-]{1,30}(?: [a-z][a-z'\-]{1,30})?)"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bmy name is " + _NAME), "name"),
    (re.compile(r"\b(?:call me|i'm called|i am called) " + _NAME), "name"),
    (re.compile(r"\bmy favou?rite (colou?r|food|drink|animal|plant|song|book|movie|place|\w+) is ([\w' \-]+)"),
     "favourite"),
    (re.compile(r"\bi (?:really |also |do )?(?:like|love|enjoy|adore) ([\w' \-]+)"), "likes"),
    (re.compile(r"\bi (?:really )?(?:don't like|do not like|hate|dislike|can't stand) ([\w' \-]+)"), "dislikes"),
    (re.compile(r"\bi live in ([\w' \-]+)"), "home"),
    (re.compile(r"\bi(?: am|'m) (?:a|an) ([\w' \-]+)"), "job"),
    (re.compile(r"\bi(?: am|'m) (\d{1,3}) years? old"), "age"),
    (re.compile(r"\bremember (?:that )?([\w' ,\-]+)"), "note"),
]  # fmt: skip
_TRAILING = re.compile(r"\b(?:too|also|very much|a lot|so much|please|now)$")
_NOT_NAMES = {"not", "sure", "going", "fine", "good", "tired", "here", "back", "a", "an", "the", "sorry"}


def extract_facts(text: str) -> list[Fact]:
    """Facts a user states about themselves: "my name is Ana", "I like plants", "I'm a teacher" …

    Values are lower-case; names are title-cased. The "like/love" pattern does not fire on questions.
    """
    t = re.sub(r"\s+", " ", text.lower()).strip()
    question = t.endswith("?") or re.match(r"^(what|where|who|how|do|does|did|can|could|is|are)\b", t) is not None
    clauses = [c.strip() for c in re.split(r"[.!?;,]| and (?=i\b|my\b)", t) if c.strip()]
    facts: list[Fact] = []
    for clause in clauses:
        for pat, key in _PATTERNS:
            if question and key not in ("name",):
                continue
            if key == "note" and facts:
                continue
            m = pat.search(clause)
            if not m:
                continue
            if key == "favourite":
                facts.append(Fact("favourite_" + m.group(1).replace("colour", "color"), _clean(m.group(2))))
                break
            value = _clean(m.group(1))
            if key == "name":
                if value.split()[0] in _NOT_NAMES:
                    continue
                value = value.title()
            if key == "job" and key in {f.key for f in facts}:
                continue
            if value:
                facts.append(Fact(key, value))
                break
    return facts


def _clean(value: str) -> str:
    v = value.strip(" '-")
    v = _TRAILING.sub("", v).strip()
    return v
