"""LLM engine: any OpenAI-compatible chat-completions endpoint (vLLM, llama.cpp server, Ollama, a cloud
API), streamed, with tool calls into the scene.

The request carries the scene context and what memory knows about the user in the system prompt, the
user's recent turns, and the scene tools (query_objects, raycast, gaze_target, pointing_target,
create_anchor) plus ``avatar_cue`` (look at / point at something, show an emotion, make a gesture) and
``remember`` (store a fact about the user). The response is read as server-sent events (``data:`` lines,
``[DONE]`` at the end); content deltas become text deltas as they arrive, tool calls are assembled from
their fragments, run against SceneTools, and sent back for the next round.

HTTP is the standard library's urllib in a worker thread (no extra dependency): lines are handed to the
event loop through a queue, and closing the turn closes the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.avatar import AvatarEvent, CueTarget, SceneSummary
from ..core.errors import InvalidArgumentError, SoraError, UnavailableError
from ._affect import avatar_emotion, text_sentiment
from ._embeddings import Embedder
from ._engine import TurnContext
from ._grounding import scene_context_text
from ._memory import MemoryStore, extract_facts
from ._tools import SceneTools, SummarySceneTools

__all__ = ["SCENE_TOOL_SCHEMAS", "LlmEngine", "LlmError", "LlmOptions"]

_EMOTIONS = ("neutral", "happy", "sad", "angry", "surprised", "thinking", "curious", "concerned")
_GESTURES = ("nod", "shake_head", "wave", "shrug")


def _fn(name: str, description: str, properties: dict[str, Any], required: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": list(required)},
        },
    }


_VEC3 = {"type": "array", "items": {"type": "number"}, "minItems": 3, "maxItems": 3}

#: The tools offered to the model, in OpenAI's function-calling schema.
SCENE_TOOL_SCHEMAS: list[dict[str, Any]] = [
    _fn("query_objects", "Find objects in the user's space by description (open vocabulary).",
        {"text": {"type": "string", "description": "what to look for, e.g. 'red mug'"},
         "limit": {"type": "integer", "default": 5}}, ["text"]),
    _fn("raycast", "Cast a ray in the world frame (metres) and return the first surface, plane or object hit.",
        {"origin_world_m": _VEC3, "direction_world": _VEC3, "max_distance_m": {"type": "number", "default": 10}},
        ["origin_world_m", "direction_world"]),
    _fn("gaze_target", "What the user is looking at right now.", {}),
    _fn("pointing_target", "What the user is pointing at right now.", {}),
    _fn("create_anchor", "Place a persistent anchor where the user points, looks, or at a point.",
        {"at": {"type": "string", "enum": ["pointing", "gaze", "point"], "default": "pointing"},
         "label": {"type": "string"}, "point_world_m": _VEC3}),
    _fn("avatar_cue", "Make the avatar look or point at something, show an emotion, or gesture.",
        {"look_at": {"type": "string", "description": "object/plane/anchor ID, or 'user'"},
         "point_at": {"type": "string", "description": "object/plane/anchor ID"},
         "emotion": {"type": "string", "enum": list(_EMOTIONS)},
         "gesture": {"type": "string", "enum": list(_GESTURES)}}),
    _fn("remember", "Store a fact about the user for later conversations.",
        {"key": {"type": "string", "description": "name, likes, dislikes, home, job, note …"},
         "value": {"type": "string"}}, ["key", "value"]),
]  # fmt: skip


@dataclass(frozen=True)
class LlmOptions:
    """base_url: the API root, e.g. "http://127.0.0.1:8080/v1" (".../chat/completions" is appended).
    model: model name sent in the request. api_key: bearer token ("" = none). temperature, max_tokens:
    sampling. timeout_s: connect/read timeout per request. max_tool_rounds: tool-call round trips per turn.
    history_turns: past user/assistant exchanges sent with each request. system_prompt: extra
    instructions appended to the built-in ones. extra_body: merged into the request JSON (e.g. vendor
    options). memory_path: SQLite file for per-user memory ("" = in memory)."""

    base_url: str = "http://127.0.0.1:8080/v1"
    model: str = "default"
    api_key: str = ""
    temperature: float = 0.6
    max_tokens: int = 400
    timeout_s: float = 30.0
    max_tool_rounds: int = 4
    history_turns: int = 6
    system_prompt: str = ""
    extra_body: dict[str, Any] = field(default_factory=dict)
    memory_path: str = ""


class LlmError(UnavailableError):
    """The endpoint failed or answered something that is not a chat-completions stream."""

    reason = "LLM_UNAVAILABLE"


class LlmEngine:
    """Chat-completions engine with scene tools. One instance may serve many users (history per user)."""

    name = "llm"

    def __init__(
        self,
        options: LlmOptions,
        *,
        memory: MemoryStore | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        if not options.base_url.startswith(("http://", "https://")):
            raise InvalidArgumentError.field("base_url", f"must be an http(s) URL, got {options.base_url!r}")
        self.options = options
        self.memory = memory if memory is not None else MemoryStore(options.memory_path)
        self.embedder = embedder
        self._history: dict[str, list[dict[str, Any]]] = {}

    @classmethod
    def create_from_options(cls, options: LlmOptions) -> LlmEngine:
        return cls(options)

    # ---- prompt ----------------------------------------------------------------------------------

    def system_prompt(self, scene: SceneSummary, ctx: TurnContext) -> str:
        """The system message: persona, style, the scene context, what memory knows, interruption note."""
        o = self.options
        style = {"brief": "Answer in one short sentence.", "detailed": "Answer in detail when it helps."}.get(
            ctx.style, "Answer in one to three short sentences."
        )
        lines = [
            f"You are {ctx.avatar_name}, an embodied companion who sees the user's physical space through their "
            "device. " + (ctx.persona.strip() + " " if ctx.persona else "") + style,
            "Your words are spoken aloud: plain sentences, no lists, no markdown. Use metres. Say 'to your left' "
            "etc. relative to the user. Only mention objects that the scene context or a tool result contains; "
            "call tools when you need more. Use avatar_cue to look at what you talk about.",
            "",
            "Scene context (world frame, metres):",
            scene_context_text(scene),
        ]
        facts = self.memory.facts(ctx.user_id)
        if facts:
            lines += ["", "What you know about the user: " + "; ".join(f"{f.key}: {f.value}" for f in facts) + "."]
        if ctx.previous_interrupted:
            lines += [
                "",
                "The user interrupted your previous answer; you had said: "
                f"\u201c{ctx.previous_spoken_text.strip()}\u201d. Do not repeat it unless asked.",
            ]
        if o.system_prompt:
            lines += ["", o.system_prompt]
        return "\n".join(lines)

    # ---- the turn --------------------------------------------------------------------------------

    async def respond(
        self, turn_id: str, text: str, scene: SceneSummary, *, context: TurnContext | None = None
    ) -> AsyncIterator[AvatarEvent]:
        ctx = context or TurnContext()
        tools: SceneTools = ctx.tools if ctx.tools is not None else SummarySceneTools(scene, self.embedder)
        for f in extract_facts(text):
            self.memory.remember(ctx.user_id, f.key, f.value)
        affect = text_sentiment(text)
        emotion, intensity = avatar_emotion(affect, ctx.voice)
        yield AvatarEvent(turn_id, "emotion", emotion=emotion, intensity=round(intensity, 3))
        yield AvatarEvent(turn_id, "look_at", target=CueTarget("user"))

        history = self._history.setdefault(ctx.user_id, [])
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": self.system_prompt(scene, ctx)},
            *history[-2 * self.options.history_turns :],
            {"role": "user", "content": text},
        ]
        answer = ""
        try:
            for _round in range(self.options.max_tool_rounds + 1):
                calls: dict[int, dict[str, Any]] = {}
                async for chunk in self._stream(messages, with_tools=_round < self.options.max_tool_rounds):
                    for choice in chunk.get("choices") or []:
                        delta = choice.get("delta") or {}
                        piece = delta.get("content")
                        if piece:
                            answer += piece
                            yield AvatarEvent(turn_id, "text_delta", text=piece)
                        for tc in delta.get("tool_calls") or []:
                            slot = calls.setdefault(
                                int(tc.get("index", len(calls))), {"id": "", "name": "", "args": ""}
                            )
                            slot["id"] = tc.get("id") or slot["id"]
                            fn = tc.get("function") or {}
                            slot["name"] += fn.get("name") or ""
                            slot["args"] += fn.get("arguments") or ""
                if not calls:
                    break
                messages.append({
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": c["id"] or f"call_{i}", "type": "function",
                         "function": {"name": c["name"], "arguments": c["args"] or "{}"}}
                        for i, c in sorted(calls.items())
                    ],
                })  # fmt: skip
                for i, c in sorted(calls.items()):
                    result, events = await self._run_tool(turn_id, c["name"], c["args"], scene, tools, ctx)
                    for ev in events:
                        yield ev
                    messages.append({"role": "tool", "tool_call_id": c["id"] or f"call_{i}", "content": result})
        except SoraError as exc:
            yield AvatarEvent(turn_id, "turn_end", end_reason="error", text=answer.strip(), detail=str(exc)[:200])
            return
        history += [{"role": "user", "content": text}, {"role": "assistant", "content": answer.strip()}]
        del history[: -2 * self.options.history_turns]
        self.memory.add_utterance(ctx.user_id, text.strip(), "llm")
        yield AvatarEvent(turn_id, "turn_end", end_reason="completed", text=answer.strip(), spoken_fraction=1.0)

    # ---- tools -----------------------------------------------------------------------------------

    async def _run_tool(
        self, turn_id: str, name: str, args_json: str, scene: SceneSummary, tools: SceneTools, ctx: TurnContext
    ) -> tuple[str, list[AvatarEvent]]:
        """Runs one tool call; returns (JSON result for the model, cue events for the avatar)."""
        try:
            args = json.loads(args_json) if args_json.strip() else {}
            if not isinstance(args, dict):
                raise ValueError("arguments are not an object")
        except ValueError as exc:
            return json.dumps({"error": f"bad arguments: {exc}"}), []
        events: list[AvatarEvent] = []
        try:
            if name == "query_objects":
                objs = await tools.query_objects(str(args.get("text", "")), limit=int(args.get("limit", 5)))
                if objs:
                    o = objs[0]
                    p = np.asarray(o.position_world_m, np.float32)
                    events.append(AvatarEvent(turn_id, "look_at", target=CueTarget("object", o.object_id, o.label, p)))
                return json.dumps({"objects": [_obj_json(o, scene) for o in objs]}), events
            if name == "raycast":
                hit = await tools.raycast(
                    args["origin_world_m"], args["direction_world"], float(args.get("max_distance_m", 10.0))
                )
                if hit is None:
                    return json.dumps({"hit": None}), []
                found = {
                    "point_world_m": [round(float(v), 3) for v in hit.point_world_m],
                    "distance_m": round(hit.distance_m, 3),
                    "target": hit.target,
                    "object_id": hit.object_id,
                    "plane_id": hit.plane_id,
                }
                return json.dumps({"hit": found}), []
            if name in ("gaze_target", "pointing_target"):
                t = await (tools.gaze_target() if name == "gaze_target" else tools.pointing_target())
                if t is None:
                    return json.dumps({"target": None}), []
                events.append(AvatarEvent(turn_id, "look_at", target=t))
                return json.dumps({"target": _cue_json(t)}), events
            if name == "create_anchor":
                a = await tools.create_anchor(
                    str(args.get("at", "pointing")), label=str(args.get("label", "")),
                    point_world_m=args.get("point_world_m"),
                )  # fmt: skip
                if a is None:
                    return json.dumps({"anchor": None, "error": "no such place"}), [
                        AvatarEvent(turn_id, "body", body_gesture="shrug")
                    ]
                p = np.asarray(a.position_world_m, np.float32)
                events += [
                    AvatarEvent(turn_id, "look_at", target=CueTarget("anchor", a.anchor_id, a.label, p)),
                    AvatarEvent(turn_id, "body", body_gesture="nod"),
                ]
                pos = [round(v, 3) for v in a.position_world_m]
                return json.dumps(
                    {"anchor": {"anchor_id": a.anchor_id, "label": a.label, "position_world_m": pos}}
                ), events
            if name == "avatar_cue":
                events += _cue_events(turn_id, args, scene)
                return json.dumps({"ok": True}), events
            if name == "remember":
                self.memory.remember(ctx.user_id, str(args.get("key", "note")), str(args.get("value", "")))
                return json.dumps({"ok": True}), []
        except (KeyError, TypeError, ValueError) as exc:
            return json.dumps({"error": f"{type(exc).__name__}: {exc}"}), events
        return json.dumps({"error": f"unknown tool {name!r}"}), []

    # ---- HTTP / SSE ------------------------------------------------------------------------------

    async def _stream(self, messages: list[dict[str, Any]], *, with_tools: bool) -> AsyncIterator[dict[str, Any]]:
        """POSTs a streaming chat-completions request; yields each parsed ``data:`` JSON chunk."""
        o = self.options
        body: dict[str, Any] = {
            "model": o.model, "messages": messages, "stream": True, "temperature": o.temperature,
            "max_tokens": o.max_tokens,
        }  # fmt: skip
        if with_tools:
            body["tools"] = SCENE_TOOL_SCHEMAS
            body["tool_choice"] = "auto"
        body.update(o.extra_body)
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if o.api_key:
            headers["Authorization"] = f"Bearer {o.api_key}"
        url = o.base_url.rstrip("/") + "/chat/completions"
        request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")

        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        stop = threading.Event()
        holder: dict[str, Any] = {}

        def put(item: tuple[str, Any]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop may be gone when the turn was abandoned
                loop.call_soon_threadsafe(queue.put_nowait, item)

        def worker() -> None:
            try:
                with urllib.request.urlopen(request, timeout=o.timeout_s) as resp:
                    holder["resp"] = resp
                    for raw in resp:
                        if stop.is_set():
                            break
                        put(("line", raw.decode("utf-8", "replace").rstrip("\r\n")))
            except urllib.error.HTTPError as exc:
                detail = exc.read(2000).decode("utf-8", "replace") if exc.fp is not None else ""
                put(("error", LlmError(f"{url} answered HTTP {exc.code}: {detail[:300]}")))
            except (urllib.error.URLError, OSError) as exc:
                if not stop.is_set():
                    put(("error", LlmError(f"cannot reach {url}: {exc}")))
            finally:
                put(("end", None))

        worker_future = loop.run_in_executor(None, worker)
        data: list[str] = []
        try:
            while True:
                kind, value = await queue.get()
                if kind == "error":
                    raise value
                if kind == "end":
                    break
                line: str = value
                if line == "":
                    if data:
                        payload = "\n".join(data)
                        data = []
                        if payload.strip() == "[DONE]":
                            return
                        try:
                            chunk = json.loads(payload)
                        except ValueError as exc:
                            raise LlmError(f"not a JSON event: {payload[:120]!r}") from exc
                        if isinstance(chunk, dict) and "error" in chunk:
                            raise LlmError(f"endpoint error: {json.dumps(chunk['error'])[:300]}")
                        yield chunk
                elif line.startswith("data:"):
                    data.append(line[6:] if line.startswith("data: ") else line[5:])
                # "event:", "id:", "retry:" and ":" comment lines carry nothing we use
            if data and "\n".join(data).strip() not in ("", "[DONE]"):
                yield json.loads("\n".join(data))
        finally:
            stop.set()
            resp = holder.get("resp")
            if resp is not None:
                with contextlib.suppress(Exception):
                    resp.close()
            if not worker_future.done():
                worker_future.add_done_callback(lambda f: f.exception())

    def close(self) -> None:
        self.memory.close()


def _obj_json(o: Any, scene: SceneSummary) -> dict[str, Any]:
    from ._grounding import direction_phrase, distance_m, support_phrase

    d = distance_m(o.position_world_m, scene)
    return {
        "object_id": o.object_id,
        "label": o.label,
        "position_world_m": [round(float(v), 3) for v in o.position_world_m],
        "distance_from_user_m": None if d is None else round(d, 2),
        "direction_from_user": direction_phrase(o.position_world_m, scene),
        "support": support_phrase(o, scene),
    }


def _cue_json(t: CueTarget) -> dict[str, Any]:
    return {
        "kind": t.kind,
        "id": t.target_id,
        "label": t.label,
        "point_world_m": [round(float(v), 3) for v in t.point_world_m],
    }


def _target(ref: str, scene: SceneSummary) -> CueTarget | None:
    if ref in ("", "user", "me"):
        return CueTarget("user") if ref else None
    for o in scene.object_list():
        if o.object_id == ref:
            return CueTarget("object", o.object_id, o.label, np.asarray(o.position_world_m, np.float32))
    for p in scene.plane_list():
        if p.plane_id == ref:
            return CueTarget("plane", p.plane_id, p.label, np.asarray(p.center_world_m, np.float32))
    for a in scene.anchors:
        if a.anchor_id == ref:
            return CueTarget("anchor", a.anchor_id, a.label, np.asarray(a.position_world_m, np.float32))
    return None


def _cue_events(turn_id: str, args: dict[str, Any], scene: SceneSummary) -> list[AvatarEvent]:
    events: list[AvatarEvent] = []
    emotion = str(args.get("emotion", ""))
    if emotion in _EMOTIONS:
        events.append(AvatarEvent(turn_id, "emotion", emotion=emotion, intensity=0.6))
    for kind in ("look_at", "point_at"):
        t = _target(str(args.get(kind, "")), scene)
        if t is not None and not (kind == "point_at" and t.kind == "user"):
            events.append(AvatarEvent(turn_id, kind, target=t))
    gesture = str(args.get("gesture", ""))
    if gesture in _GESTURES:
        events.append(AvatarEvent(turn_id, "body", body_gesture=gesture))
    return events
