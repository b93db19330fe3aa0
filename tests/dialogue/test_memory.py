"""Per-user memory in SQLite: facts, history, deletion, and crash safety."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from sora_sdk.dialogue import Fact, MemoryStore, extract_facts


def test_facts_are_extracted_from_what_users_say() -> None:
    assert extract_facts("My name is Ana") == [Fact("name", "Ana")]
    assert extract_facts("Hi, I'm called Bob and I like plants") == [Fact("name", "Bob"), Fact("likes", "plants")]
    assert extract_facts("I don't like spiders") == [Fact("dislikes", "spiders")]
    assert extract_facts("my favourite colour is blue") == [Fact("favourite_color", "blue")]
    assert extract_facts("I'm a teacher") == [Fact("job", "teacher")]
    assert extract_facts("what do I like?") == []
    assert extract_facts("I'm not sure") == []


def test_store_keeps_single_and_multi_valued_facts_and_forgets_a_user(tmp_path: Path) -> None:
    m = MemoryStore(tmp_path / "memory.db")
    m.remember("ana", "name", "Ana")
    m.remember("ana", "likes", "plants")
    m.remember("ana", "likes", "tea")
    m.remember("ana", "name", "Anna")
    m.remember("bob", "name", "Bob")
    m.add_utterance("ana", "where is my cup", "where_is")
    assert m.get("ana", "name") == ["Anna"] and m.get("ana", "likes") == ["plants", "tea"]
    m.remember("ana", "dislikes", "tea")
    assert m.get("ana", "likes") == ["plants"]
    assert m.utterances("ana")[0][1:] == ("where is my cup", "where_is")
    m.forget_user("ana")
    assert m.facts("ana") == [] and m.utterances("ana") == [] and m.get("bob", "name") == ["Bob"]
    m.close()
    assert MemoryStore(tmp_path / "memory.db").users() == ["bob"]


def test_a_crash_mid_write_leaves_the_committed_state(tmp_path: Path) -> None:
    db = tmp_path / "memory.db"
    m = MemoryStore(db)
    m.remember("ana", "name", "Ana")
    m.close()
    # a process that starts a transaction, writes, and dies without committing
    code = textwrap.dedent(f"""
        import os, sqlite3
        c = sqlite3.connect({str(db)!r}, isolation_level=None)
        c.execute("BEGIN IMMEDIATE")
        c.execute("DELETE FROM facts")
        c.execute("INSERT INTO facts VALUES ('ana', 'name', 'Torn', 0)")
        os._exit(9)
    """)
    assert subprocess.run([sys.executable, "-c", code]).returncode == 9
    assert MemoryStore(db).get("ana", "name") == ["Ana"]


def test_history_is_bounded(tmp_path: Path) -> None:
    from sora_sdk.dialogue import MemoryOptions

    m = MemoryStore(MemoryOptions(path=str(tmp_path / "m.db"), max_utterances=5))
    for i in range(12):
        m.add_utterance("u", f"q{i}")
    assert [t for _s, t, _i in m.utterances("u", limit=50)] == ["q7", "q8", "q9", "q10", "q11"]
