"""The LLM engine's HTTP/SSE client and tool-call round trip, against a local stand-in server.

No OpenAI-compatible model server can run in this environment (no network to fetch one, and no model), so
a small HTTP server on 127.0.0.1 stands in for the remote service: it records each request and replays
chat-completions streams written in the format OpenAI's API streams them (``chat.completion.chunk``
objects as SSE ``data:`` lines, tool-call arguments in fragments, a usage chunk, ``[DONE]``) from
``data/*.sse``. The engine's real urllib transport, SSE parsing and tool execution are exercised.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sora_sdk.core.avatar import AvatarEvent
from sora_sdk.dialogue import Embedder, LlmEngine, LlmOptions, MemoryStore, SummarySceneTools, TurnContext

DATA = Path(__file__).parent / "data"


class RecordedOpenAI:
    """Replays one recorded stream per request, in order, and keeps the requests it received."""

    def __init__(self, streams: list[str], status: int = 200) -> None:
        self.streams = list(streams)
        self.status = status
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                outer.headers.append(dict(self.headers))
                if self.path != "/v1/chat/completions" or outer.status != 200:
                    self.send_response(outer.status if outer.status != 200 else 404)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"error": {"message": "model overloaded", "type": "server_error"}}')
                    return
                text = (DATA / outer.streams.pop(0)).read_text()
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                for event in text.split("\n\n"):  # one write per event, split mid-line too, like a network
                    if event:
                        half = len(event) // 2
                        self.wfile.write(event[:half].encode())
                        self.wfile.flush()
                        self.wfile.write((event[half:] + "\n\n").encode())
                        self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stand_in() -> Iterator[list[RecordedOpenAI]]:
    made: list[RecordedOpenAI] = []
    yield made
    for s in made:
        s.close()


def _text(events: list[AvatarEvent]) -> str:
    return "".join(e.text for e in events if e.kind == "text_delta")


async def test_llm_engine_against_recorded_openai_stream_stand_in(stand_in, scene, embedder: Embedder) -> None:
    server = RecordedOpenAI(["openai_stream_query_objects_call.sse", "openai_stream_answer_after_tool.sse"])
    stand_in.append(server)
    memory = MemoryStore()
    memory.remember("ana", "name", "Ana")
    engine = LlmEngine(LlmOptions(base_url=server.base_url, model="gpt-4o-mini", api_key="sk-test"), memory=memory)
    ctx = TurnContext(user_id="ana", tools=SummarySceneTools(scene, embedder), persona="A calm guide.")
    events = [e async for e in engine.respond("t1", "Where's my cup?", scene, context=ctx)]

    # the request: streaming, tools offered, the scene and the user's memory in the system prompt
    first, second = server.requests
    assert first["stream"] is True and first["model"] == "gpt-4o-mini"
    assert {t["function"]["name"] for t in first["tools"]} >= {
        "query_objects",
        "raycast",
        "gaze_target",
        "create_anchor",
    }
    system = first["messages"][0]["content"]
    assert "o-mug" in system and "red mug" in system and "on the table" in system and "name: Ana" in system
    assert "A calm guide." in system and first["messages"][-1] == {"role": "user", "content": "Where's my cup?"}
    assert server.headers[0]["Authorization"] == "Bearer sk-test"

    # the tool call was assembled from its fragments, run against the scene, and its result sent back
    call = second["messages"][-2]["tool_calls"][0]
    assert call["id"] == "call_8fGq2xYw1pLkT3sVb0nR" and call["function"] == {
        "name": "query_objects",
        "arguments": '{"text":"cup"}',
    }
    result = json.loads(second["messages"][-1]["content"])
    assert second["messages"][-1]["tool_call_id"] == "call_8fGq2xYw1pLkT3sVb0nR"
    assert {o["object_id"] for o in result["objects"]} == {"o-mug", "o-mug2"}
    mug = next(o for o in result["objects"] if o["object_id"] == "o-mug")
    assert mug["distance_from_user_m"] == pytest.approx(2.24, abs=0.01) and mug["support"] == "on the table"

    # the avatar: looks at what the tool found, then streams the recorded answer token by token
    looks = [e.target.target_id for e in events if e.kind == "look_at" and e.target is not None]
    assert looks[0] == "" and looks[1] in ("o-mug", "o-mug2")
    recorded = (
        "The red mug is on the table, about 2.2 metres ahead of you and a little to your left. "
        "There's also a white mug on the shelf behind you."
    )
    assert _text(events) == recorded
    assert sum(1 for e in events if e.kind == "text_delta") == 35
    assert events[-1].kind == "turn_end" and events[-1].end_reason == "completed" and events[-1].text == recorded


async def test_llm_engine_creates_anchor_and_cues_via_recorded_tool_calls_stand_in(stand_in, scene) -> None:
    server = RecordedOpenAI(["openai_stream_create_anchor_call.sse", "openai_stream_answer_after_anchor.sse"])
    stand_in.append(server)
    engine = LlmEngine(LlmOptions(base_url=server.base_url))
    tools = SummarySceneTools(scene)
    events = [e async for e in engine.respond("t2", "Put an anchor there for my keys", scene,
                                              context=TurnContext(tools=tools))]  # fmt: skip
    assert len(tools.created) == 1
    anchor = tools.created[0]
    assert anchor.label == "keys" and anchor.position_world_m == pytest.approx((2.0, 0.6, 0.85))
    tool_msgs = [m for m in server.requests[1]["messages"] if m["role"] == "tool"]
    assert json.loads(tool_msgs[0]["content"])["anchor"]["anchor_id"] == anchor.anchor_id
    assert json.loads(tool_msgs[1]["content"]) == {"ok": True}
    gestures = [e.body_gesture for e in events if e.kind == "body"]
    looks = [e.target.target_id for e in events if e.kind == "look_at" and e.target is not None]
    assert gestures == ["nod", "nod"] and anchor.anchor_id in looks and "o-mug" in looks
    assert _text(events) == "Done! I put an anchor called keys where you're pointing."
    assert "Authorization" not in server.headers[0]  # no key configured, none sent


async def test_llm_engine_reports_endpoint_errors_as_turn_errors_stand_in(stand_in, scene) -> None:
    server = RecordedOpenAI([], status=503)
    stand_in.append(server)
    engine = LlmEngine(LlmOptions(base_url=server.base_url))
    events = [e async for e in engine.respond("t3", "hello", scene)]
    assert events[-1].kind == "turn_end" and events[-1].end_reason == "error"
    assert "503" in events[-1].detail and "overloaded" in events[-1].detail
    down = LlmEngine(LlmOptions(base_url="http://127.0.0.1:9/v1", timeout_s=2))
    events = [e async for e in down.respond("t4", "hello", scene)]
    assert events[-1].end_reason == "error" and "cannot reach" in events[-1].detail


async def test_interrupted_turn_is_told_to_the_model_stand_in(stand_in, scene) -> None:
    server = RecordedOpenAI(["openai_stream_answer_after_anchor.sse"])
    stand_in.append(server)
    engine = LlmEngine(LlmOptions(base_url=server.base_url))
    ctx = TurnContext(previous_interrupted=True, previous_spoken_text="The red mug is on the")
    [e async for e in engine.respond("t5", "and the box?", scene, context=ctx)]
    assert "interrupted your previous answer" in server.requests[0]["messages"][0]["content"]
    assert "The red mug is on the" in server.requests[0]["messages"][0]["content"]
