"""The public surface of ``sora_sdk.dialogue`` (frozen) and the avatar benchmark."""

from __future__ import annotations

import sora_sdk.dialogue as dialogue
from sora_sdk.core.avatar import SceneSummary

EXPECTED = {
    "ESPEAK_LOCK", "SCENE_TOOL_SCHEMAS", "VISEMES", "VISEME_BLENDSHAPES", "Affect", "AsrOptions", "AsrResult",
    "AvatarBenchResult", "DialogueEngine", "EmbeddedEngine", "EmbeddedEngineOptions", "Embedder", "EmbedderOptions",
    "EspeakTts", "Fact", "FasterWhisperAsr", "FasterWhisperOptions", "Intent", "IntentClassifier", "IntentOptions",
    "LlmEngine", "LlmError", "LlmOptions", "MemoryOptions", "MemoryStore", "PocketsphinxAsr", "SceneGrammar",
    "SceneTools", "SileroVad", "SpeakerOptions", "SpeechResult", "SummarySceneTools", "TtsOptions", "TurnContext",
    "TurnOutcome", "TurnRunner", "VadEvent", "VadOptions", "VisemeOptions", "VisemeTrack", "VoiceFeatures",
    "avatar_emotion", "bench_avatar", "bench_scene", "best_matches", "cosine_similarity", "default_embedder",
    "extract_facts", "phoneme_to_viseme", "resample_pcm16", "scene_context_text", "speech_segments", "synthesize",
    "text_sentiment", "viseme_track", "voice_features", "UserUtterance", "VoiceInput", "VoiceInputEvent",
    "VoiceInputOptions",
}  # fmt: skip


def test_public_names_are_frozen() -> None:
    assert set(dialogue.__all__) == EXPECTED
    assert all(hasattr(dialogue, n) for n in dialogue.__all__)


def test_old_style_scene_summary_still_works() -> None:
    s = SceneSummary(3, 10, 1.5, (0, 0, 0), (1, 1, 1), (("p1", "floor", 2.0),), (("o1", "cup", (0.5, 0.2, 0.0)),))
    assert s.object_list()[0].label == "cup" and s.plane_list()[0].label == "floor"
    assert "cup" in dialogue.scene_context_text(s)


def test_engines_satisfy_the_protocols(embedder) -> None:  # type: ignore[no-untyped-def]
    engine = dialogue.EmbeddedEngine(embedder=embedder)
    assert callable(engine.respond) and engine.name == "embedded"
    assert isinstance(dialogue.SummarySceneTools(dialogue.bench_scene()), dialogue.SceneTools)


def test_bench_avatar_measures_latencies_and_real_time_factors(embedder) -> None:  # type: ignore[no-untyped-def]
    r = dialogue.bench_avatar(repeats=1, spoken_questions=4)
    print("\n" + r.format())
    assert 0 < r.text_to_first_delta_ms < r.text_to_first_audio_ms < 1000
    assert r.speech_end_to_first_audio_ms > r.vad_decision_ms > 0
    assert r.hangover_speech_end_to_first_audio_ms > r.hangover_vad_decision_ms > 0
    assert r.baseline_speech_end_to_first_audio_ms > r.baseline_vad_decision_ms > 0
    assert r.first_utterance_speech_end_to_first_audio_ms > r.speech_end_to_first_audio_ms
    # every spoken question took the speculative path and was heard as by the baseline; "where is the red mug"
    # and "what am i looking at" end on the short pause, "how far is the green plant" and "how many chairs are
    # there" can go on and wait for the hangover (timings: the bench's job)
    assert r.questions == 4 and r.speculations_used == 4 and r.transcripts_same == 4 and r.early_ends == 2
    assert r.vad_decision_ms < r.hangover_vad_decision_ms and r.ratio_to_baseline > 0
    assert 0 < r.tts_rtf < 0.5 and 0 < r.asr_rtf < 1.0 and r.asr_exact >= 3
    assert "text -> first text delta" in r.format() and "waiting for the hangover" in r.format()
