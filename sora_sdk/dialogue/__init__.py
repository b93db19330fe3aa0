"""Dialogue: grounded engines, speech in and out, visemes, memory.

Engines (``EmbeddedEngine``, ``LlmEngine``) turn a user turn and a SceneSummary into cue and text events;
``TurnRunner`` adds speech audio and viseme tracks sentence by sentence and handles interrupts. Voice in
is ``SileroVad`` (end of turn, barge-in) and ``PocketsphinxAsr`` (scene grammar) or ``FasterWhisperAsr``,
joined by ``VoiceInput``. ``bench_avatar()`` measures latencies and real-time factors.
"""

from __future__ import annotations

from ._affect import Affect, VoiceFeatures, avatar_emotion, text_sentiment, voice_features
from ._asr import AsrOptions, AsrResult, FasterWhisperAsr, FasterWhisperOptions, PocketsphinxAsr
from ._audio import resample_pcm16
from ._bench import AvatarBenchResult, bench_avatar, bench_scene
from ._embedded import EmbeddedEngine, EmbeddedEngineOptions
from ._embeddings import Embedder, EmbedderOptions, best_matches, cosine_similarity, default_embedder
from ._engine import DialogueEngine, TurnContext
from ._grammar import SceneGrammar
from ._grounding import scene_context_text
from ._intents import Intent, IntentClassifier, IntentOptions
from ._llm import SCENE_TOOL_SCHEMAS, LlmEngine, LlmError, LlmOptions
from ._memory import Fact, MemoryOptions, MemoryStore, extract_facts
from ._speaker import SpeakerOptions, TurnOutcome, TurnRunner
from ._tools import SceneTools, SummarySceneTools
from ._tts import ESPEAK_LOCK, EspeakTts, SpeechResult, TtsOptions, synthesize
from ._vad import SileroVad, VadEvent, VadOptions, speech_segments
from ._visemes import VISEME_BLENDSHAPES, VISEMES, VisemeOptions, VisemeTrack, phoneme_to_viseme, viseme_track
from ._voice_input import UserUtterance, VoiceInput, VoiceInputEvent, VoiceInputOptions

__all__ = [
    "ESPEAK_LOCK",
    "SCENE_TOOL_SCHEMAS",
    "VISEMES",
    "VISEME_BLENDSHAPES",
    "Affect",
    "AsrOptions",
    "AsrResult",
    "AvatarBenchResult",
    "DialogueEngine",
    "EmbeddedEngine",
    "EmbeddedEngineOptions",
    "Embedder",
    "EmbedderOptions",
    "EspeakTts",
    "Fact",
    "FasterWhisperAsr",
    "FasterWhisperOptions",
    "Intent",
    "IntentClassifier",
    "IntentOptions",
    "LlmEngine",
    "LlmError",
    "LlmOptions",
    "MemoryOptions",
    "MemoryStore",
    "PocketsphinxAsr",
    "SceneGrammar",
    "SceneTools",
    "SileroVad",
    "SpeakerOptions",
    "SpeechResult",
    "SummarySceneTools",
    "TtsOptions",
    "TurnContext",
    "TurnOutcome",
    "TurnRunner",
    "UserUtterance",
    "VadEvent",
    "VadOptions",
    "VisemeOptions",
    "VisemeTrack",
    "VoiceFeatures",
    "VoiceInput",
    "VoiceInputEvent",
    "VoiceInputOptions",
    "avatar_emotion",
    "bench_avatar",
    "bench_scene",
    "best_matches",
    "cosine_similarity",
    "default_embedder",
    "extract_facts",
    "phoneme_to_viseme",
    "resample_pcm16",
    "scene_context_text",
    "speech_segments",
    "synthesize",
    "text_sentiment",
    "viseme_track",
    "voice_features",
]
