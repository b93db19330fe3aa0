#include "SoraSession.h"

#include "Async/Async.h"
#include "SoraCoordinates.h"
#include "SoraSdkModule.h"
#include "Sound/SoundWaveProcedural.h"

#include "SoraClientIncludes.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

namespace v1 = sora::v1;

namespace
{
	constexpr int32 VoiceSampleRate = 24000;  // asked of the server, so the procedural wave needs no resampling
	constexpr size_t MaxQueuedSensorMessages = 64;

	std::string ToStd(const FString& S) { return std::string(TCHAR_TO_UTF8(*S)); }
	FString ToF(const std::string& S) { return FString(UTF8_TO_TCHAR(S.c_str())); }

	FString EnumSuffix(const std::string& Name, const char* Prefix)
	{
		const std::string P(Prefix);
		return ToF(Name.rfind(P, 0) == 0 ? Name.substr(P.size()) : Name);
	}

	FVector Point(const v1::Vector3& V) { return SoraCoordinates::PointToUnreal(V.x(), V.y(), V.z()); }
	FVector Direction(const v1::Vector3& V) { return SoraCoordinates::DirectionToUnreal(V.x(), V.y(), V.z()); }

	FSoraTarget Target(const v1::SceneTarget& T)
	{
		FSoraTarget Out;
		Out.Kind = static_cast<ESoraTargetKind>(T.kind());
		Out.Id = ToF(T.id());
		Out.Label = ToF(T.label());
		Out.Point = Point(T.point_world_m());
		Out.Normal = Direction(T.normal_world());
		Out.DistanceCm = T.distance_m() * 100.f;
		return Out;
	}

	FSoraMeshChunk Chunk(const sora::DecodedChunk& D)
	{
		FSoraMeshChunk Out;
		Out.Block = FIntVector(D.key[0], D.key[1], D.key[2]);
		Out.Version = static_cast<int64>(D.version);
		const int32 N = static_cast<int32>(D.vertex_count());
		Out.Vertices.Reserve(N);
		Out.Normals.Reserve(N);
		Out.Colors.Reserve(N);
		for (int32 I = 0; I < N; ++I)
		{
			Out.Vertices.Add(SoraCoordinates::PointToUnreal(D.vertices[3 * I], D.vertices[3 * I + 1], D.vertices[3 * I + 2]));
			Out.Normals.Add(SoraCoordinates::DirectionToUnreal(D.normals[3 * I], D.normals[3 * I + 1], D.normals[3 * I + 2]));
			if (D.colors.empty()) Out.Colors.Add(FColor::White);
			else Out.Colors.Add(FColor(D.colors[3 * I], D.colors[3 * I + 1], D.colors[3 * I + 2], 255));
		}
		Out.Triangles.Reserve(static_cast<int32>(D.triangles.size()));
		for (uint32_t Index : D.triangles) Out.Triangles.Add(static_cast<int32>(Index));
		SoraCoordinates::FlipWinding(Out.Triangles);
		return Out;
	}

	void Post(TWeakObjectPtr<USoraSession> Weak, TFunction<void(USoraSession&)> Fn)
	{
		AsyncTask(ENamedThreads::GameThread, [Weak, Fn = MoveTemp(Fn)]() {
			if (USoraSession* Self = Weak.Get()) Fn(*Self);
		});
	}
}

/** Everything that touches gRPC; shared with the worker threads, which outlive no Close(). */
struct FSoraSessionState
{
	std::mutex Mutex;
	std::unique_ptr<sora::Client> Client;
	std::optional<sora::Session> Session;
	std::thread Connector;

	std::unique_ptr<sora::Watch> SceneWatch;
	std::mutex MirrorMutex;
	sora::SceneMirror Mirror;
	std::set<sora::BlockKey> Shown;  // chunks the game side has

	std::unique_ptr<sora::Watch> PerceptionWatch;

	std::unique_ptr<sora::Conversation> Conversation;
	std::thread ConversationReader;

	std::unique_ptr<sora::SensorStream> Sensors;
	std::thread SensorWriter;
	std::mutex SensorMutex;
	std::condition_variable SensorCv;
	std::deque<v1::StreamSensorDataRequest> SensorQueue;
	bool bStopSensors = false;
	uint64 FrameSequence = 0;

	std::atomic<bool> bClosing{false};
	FSoraTarget LastGazeTarget;  // game thread only

	void StopAll()
	{
		bClosing = true;
		if (Connector.joinable()) Connector.join();
		if (SceneWatch) SceneWatch->Stop();
		if (PerceptionWatch) PerceptionWatch->Stop();
		if (Conversation) Conversation->Cancel();
		if (ConversationReader.joinable()) ConversationReader.join();
		{
			std::lock_guard<std::mutex> Lock(SensorMutex);
			bStopSensors = true;
		}
		SensorCv.notify_all();
		if (SensorWriter.joinable()) SensorWriter.join();
	}

	sora::Session* GetSession()
	{
		std::lock_guard<std::mutex> Lock(Mutex);
		return Session ? &*Session : nullptr;
	}
};

USoraSession::USoraSession() = default;

void USoraSession::BeginDestroy()
{
	Close();
	Super::BeginDestroy();
}

void USoraSession::Connect(const FString& Target, const FString& DisplayName, const FString& ExistingSessionId, bool bUseTls)
{
	Close();
	State = MakeShared<FSoraSessionState, ESPMode::ThreadSafe>();
	SetState(ESoraConnectionState::Connecting);
	TWeakObjectPtr<USoraSession> Weak(this);
	auto S = State;
	std::string TargetStd = ToStd(Target), Name = ToStd(DisplayName), Existing = ToStd(ExistingSessionId);
	S->Connector = std::thread([Weak, S, TargetStd, Name, Existing, bUseTls]() {
		try
		{
			sora::ClientOptions Options;
			Options.use_tls = bUseTls;
			auto Client = std::make_unique<sora::Client>(TargetStd, Options);
			if (!Client->WaitReady(std::chrono::seconds(10))) throw sora::UnavailableError("no Sora server at " + TargetStd);
			sora::CreateSessionOptions Create;
			Create.display_name = Name;
			sora::Session Session = Existing.empty() ? Client->CreateSession(Create) : Client->OpenSession(Existing);
			const FString Id = ToF(Session.id());
			{
				std::lock_guard<std::mutex> Lock(S->Mutex);
				S->Client = std::move(Client);
				S->Session.emplace(Session);
			}
			Post(Weak, [Id](USoraSession& Self) {
				Self.SetState(ESoraConnectionState::Connected);
				Self.OnConnected.Broadcast(Id);
			});
		}
		catch (const std::exception& E)
		{
			const FString Message = ToF(E.what());
			Post(Weak, [Message](USoraSession& Self) {
				Self.SetState(ESoraConnectionState::Failed);
				Self.OnError.Broadcast(Message);
			});
		}
	});
}

void USoraSession::Close()
{
	if (!State.IsValid()) return;
	State->StopAll();
	State.Reset();
	SetState(ESoraConnectionState::Disconnected);
}

FString USoraSession::GetSessionId() const
{
	if (!State.IsValid()) return FString();
	sora::Session* Session = State->GetSession();
	return Session ? ToF(Session->id()) : FString();
}

void USoraSession::WatchScene()
{
	sora::Session* Session = State.IsValid() ? State->GetSession() : nullptr;
	if (!Session)
	{
		UE_LOG(LogSora, Warning, TEXT("WatchScene: not connected (wait for OnConnected)"));
		return;
	}
	TWeakObjectPtr<USoraSession> Weak(this);
	auto S = State;
	{
		std::lock_guard<std::mutex> Lock(S->MirrorMutex);
		S->Mirror = sora::SceneMirror();
	}
	S->SceneWatch = Session->WatchScene({}, [Weak, S](const v1::SceneUpdate& U) {
		TArray<FSoraMeshChunk> Upserted;
		TArray<FIntVector> Removed;
		FSoraSceneStats Stats;
		{
			std::lock_guard<std::mutex> Lock(S->MirrorMutex);
			try
			{
				if (S->Mirror.Apply(U) == sora::ApplyResult::kDuplicate) return;
			}
			catch (const std::logic_error& E)
			{
				// Out of order: start again from a fresh snapshot.
				const FString Message = ToF(E.what());
				Post(Weak, [Message](USoraSession& Self) {
					Self.OnError.Broadcast(Message);
					Self.WatchScene();
				});
				return;
			}
			for (const v1::MeshChunk& C : U.upserted_chunks())
			{
				auto It = S->Mirror.chunks().find(sora::KeyOf(C.block()));
				if (It == S->Mirror.chunks().end()) continue;
				Upserted.Add(Chunk(It->second));
				S->Shown.insert(It->first);
			}
			// Removals wait for a finished snapshot, so a reconnect does not blank the mesh.
			if (!S->Mirror.snapshot_in_progress())
			{
				for (auto It = S->Shown.begin(); It != S->Shown.end();)
				{
					if (S->Mirror.chunks().count(*It) == 0)
					{
						Removed.Add(FIntVector((*It)[0], (*It)[1], (*It)[2]));
						It = S->Shown.erase(It);
					}
					else
					{
						++It;
					}
				}
			}
			Stats.Chunks = static_cast<int32>(S->Mirror.chunks().size());
			Stats.Triangles = static_cast<int64>(S->Mirror.triangle_count());
			Stats.Position = FString::Printf(TEXT("%llu:%llu"), static_cast<unsigned long long>(U.position().epoch()),
			                                 static_cast<unsigned long long>(U.position().sequence()));
		}
		Post(Weak, [Upserted = MoveTemp(Upserted), Removed = MoveTemp(Removed), Stats](USoraSession& Self) {
			for (const FIntVector& Block : Removed) Self.OnChunkRemoved.Broadcast(Block);
			for (const FSoraMeshChunk& C : Upserted) Self.OnChunkUpdated.Broadcast(C);
			Self.OnSceneChanged.Broadcast(Stats);
		});
	});
}

void USoraSession::WatchPerception(bool bIncludeHands, bool bIncludeGaze)
{
	sora::Session* Session = State.IsValid() ? State->GetSession() : nullptr;
	if (!Session)
	{
		UE_LOG(LogSora, Warning, TEXT("WatchPerception: not connected (wait for OnConnected)"));
		return;
	}
	TWeakObjectPtr<USoraSession> Weak(this);
	auto S = State;
	sora::PerceptionWatchOptions Options;
	Options.include_hands = bIncludeHands;
	Options.include_gaze = bIncludeGaze;
	S->PerceptionWatch = Session->WatchPerception(Options, [Weak, S](const v1::WatchPerceptionResponse& M) {
		switch (M.item_case())
		{
		case v1::WatchPerceptionResponse::kGesture:
		{
			const v1::GestureEvent& G = M.gesture();
			FSoraGestureEvent E;
			E.HandId = static_cast<int32>(G.hand_id());
			E.bLeftHand = G.handedness() == v1::HANDEDNESS_LEFT;
			E.Gesture = EnumSuffix(v1::GestureType_Name(G.gesture()), "GESTURE_TYPE_");
			E.Phase = EnumSuffix(v1::EventPhase_Name(G.phase()), "EVENT_PHASE_");
			E.Confidence = G.confidence();
			E.Strength = G.strength();
			E.Displacement = SoraCoordinates::PointToUnreal(G.displacement_m().x(), G.displacement_m().y(), G.displacement_m().z());
			Post(Weak, [E](USoraSession& Self) { Self.OnGesture.Broadcast(E); });
			break;
		}
		case v1::WatchPerceptionResponse::kPointing:
		{
			const v1::PointingEvent& P = M.pointing();
			FSoraPointingEvent E;
			E.HandId = static_cast<int32>(P.hand_id());
			E.Phase = EnumSuffix(v1::EventPhase_Name(P.phase()), "EVENT_PHASE_");
			E.RayOrigin = Point(P.ray_world().origin_m());
			E.RayDirection = Direction(P.ray_world().direction());
			E.Target = Target(P.target());
			Post(Weak, [E](USoraSession& Self) { Self.OnPointing.Broadcast(E); });
			break;
		}
		case v1::WatchPerceptionResponse::kGaze:
		{
			const v1::GazeUpdate& G = M.gaze();
			FSoraGaze E;
			E.Origin = Point(G.gaze_world().origin_m());
			E.Direction = Direction(G.gaze_world().direction());
			E.Target = Target(G.target());
			E.DwellSeconds = G.dwell_s();
			E.bFixating = G.fixating();
			Post(Weak, [E, S](USoraSession& Self) {
				Self.OnGaze.Broadcast(E);
				if (E.Target.Kind != S->LastGazeTarget.Kind || E.Target.Id != S->LastGazeTarget.Id)
				{
					S->LastGazeTarget = E.Target;
					Self.OnGazeTargetChanged.Broadcast(E.Target);
				}
			});
			break;
		}
		default:
			break;  // hands, fixations, interactions: same pattern, left to the app
		}
	});
}

void USoraSession::StartSensorStream(const FString& StreamName, bool bLossless)
{
	sora::Session* Session = State.IsValid() ? State->GetSession() : nullptr;
	if (!Session)
	{
		UE_LOG(LogSora, Warning, TEXT("StartSensorStream: not connected (wait for OnConnected)"));
		return;
	}
	auto S = State;
	TWeakObjectPtr<USoraSession> Weak(this);
	sora::SensorStreamOptions Options;
	Options.stream_name = ToStd(StreamName);
	Options.lossless = bLossless;
	try
	{
		S->Sensors = Session->OpenSensorStream(Options);
	}
	catch (const std::exception& E)
	{
		OnError.Broadcast(ToF(E.what()));
		return;
	}
	// Writes block under flow control, so one worker owns the stream and the game thread only queues.
	S->SensorWriter = std::thread([S, Weak]() {
		while (true)
		{
			v1::StreamSensorDataRequest Next;
			{
				std::unique_lock<std::mutex> Lock(S->SensorMutex);
				S->SensorCv.wait(Lock, [&] { return S->bStopSensors || !S->SensorQueue.empty(); });
				if (S->bStopSensors) break;
				Next = std::move(S->SensorQueue.front());
				S->SensorQueue.pop_front();
			}
			if (!S->Sensors->Write(Next)) break;
		}
		try
		{
			const sora::IngestSummary Summary = S->Sensors->Finish();
			UE_LOG(LogSora, Log, TEXT("sensor stream closed: %llu frames fused"), static_cast<unsigned long long>(Summary.frames_integrated));
		}
		catch (const std::exception& E)
		{
			if (!S->bClosing)
			{
				const FString Message = ToF(E.what());
				Post(Weak, [Message](USoraSession& Self) { Self.OnError.Broadcast(Message); });
			}
		}
	});
}

void USoraSession::SendCameraFrame(const FSoraCameraFrame& Frame)
{
	if (!State.IsValid() || !State->Sensors) return;
	v1::StreamSensorDataRequest Request;
	v1::CameraFrame* F = Request.mutable_camera_frame();
	F->set_sequence(++State->FrameSequence);
	F->set_capture_time_s(FPlatformTime::Seconds());
	const FVector P = SoraCoordinates::PointFromUnreal(Frame.CameraToWorld.GetLocation());
	const FQuat Q = SoraCoordinates::CameraRotationFromUnreal(Frame.CameraToWorld.GetRotation());
	v1::Pose* Pose = F->mutable_pose_world_camera();
	Pose->mutable_position_m()->set_x(P.X);
	Pose->mutable_position_m()->set_y(P.Y);
	Pose->mutable_position_m()->set_z(P.Z);
	Pose->mutable_orientation()->set_x(Q.X);
	Pose->mutable_orientation()->set_y(Q.Y);
	Pose->mutable_orientation()->set_z(Q.Z);
	Pose->mutable_orientation()->set_w(Q.W);
	const int32 W = Frame.DepthMeters.Num() > 0 ? Frame.DepthWidth : Frame.ColorWidth;
	const int32 H = Frame.DepthMeters.Num() > 0 ? Frame.DepthHeight : Frame.ColorHeight;
	v1::CameraIntrinsics* K = F->mutable_intrinsics();
	K->set_width_px(W);
	K->set_height_px(H);
	K->set_fx_px(Frame.Fx);
	K->set_fy_px(Frame.Fy);
	K->set_cx_px(Frame.Cx);
	K->set_cy_px(Frame.Cy);
	if (Frame.EncodedColor.Num() > 0)
	{
		v1::ColorImage* C = F->mutable_color();
		C->set_encoding(Frame.bColorIsPng ? v1::COLOR_ENCODING_PNG : v1::COLOR_ENCODING_JPEG);
		C->set_width_px(Frame.ColorWidth);
		C->set_height_px(Frame.ColorHeight);
		C->set_data(reinterpret_cast<const char*>(Frame.EncodedColor.GetData()), Frame.EncodedColor.Num());
	}
	if (Frame.DepthMeters.Num() == Frame.DepthWidth * Frame.DepthHeight && Frame.DepthMeters.Num() > 0)
	{
		// Millimetres as little-endian uint16; out-of-range readings become "no measurement".
		std::string Bytes(Frame.DepthMeters.Num() * 2, '\0');
		for (int32 I = 0; I < Frame.DepthMeters.Num(); ++I)
		{
			const float M = Frame.DepthMeters[I];
			const int32 Mm = (M > 0.f && M < 65.535f) ? FMath::RoundToInt(M * 1000.f) : 0;
			Bytes[2 * I] = static_cast<char>(Mm & 0xff);
			Bytes[2 * I + 1] = static_cast<char>((Mm >> 8) & 0xff);
		}
		v1::DepthImage* D = F->mutable_depth();
		D->set_encoding(v1::DEPTH_ENCODING_RAW_U16);
		D->set_width_px(Frame.DepthWidth);
		D->set_height_px(Frame.DepthHeight);
		D->set_m_per_unit(0.001);
		D->set_data(std::move(Bytes));
	}
	{
		std::lock_guard<std::mutex> Lock(State->SensorMutex);
		// Live data goes stale: past the cap the oldest queued message gives way.
		while (State->SensorQueue.size() >= MaxQueuedSensorMessages) State->SensorQueue.pop_front();
		State->SensorQueue.push_back(std::move(Request));
	}
	State->SensorCv.notify_one();
}

void USoraSession::SendHeadPose(const FTransform& HeadToWorld)
{
	if (!State.IsValid() || !State->Sensors) return;
	v1::StreamSensorDataRequest Request;
	v1::HeadPoseSample* H = Request.mutable_head_pose();
	H->set_capture_time_s(FPlatformTime::Seconds());
	const FVector P = SoraCoordinates::PointFromUnreal(HeadToWorld.GetLocation());
	const FQuat Q = SoraCoordinates::CameraRotationFromUnreal(HeadToWorld.GetRotation());
	H->mutable_pose_world_head()->mutable_position_m()->set_x(P.X);
	H->mutable_pose_world_head()->mutable_position_m()->set_y(P.Y);
	H->mutable_pose_world_head()->mutable_position_m()->set_z(P.Z);
	H->mutable_pose_world_head()->mutable_orientation()->set_x(Q.X);
	H->mutable_pose_world_head()->mutable_orientation()->set_y(Q.Y);
	H->mutable_pose_world_head()->mutable_orientation()->set_z(Q.Z);
	H->mutable_pose_world_head()->mutable_orientation()->set_w(Q.W);
	{
		std::lock_guard<std::mutex> Lock(State->SensorMutex);
		while (State->SensorQueue.size() >= MaxQueuedSensorMessages) State->SensorQueue.pop_front();
		State->SensorQueue.push_back(std::move(Request));
	}
	State->SensorCv.notify_one();
}

void USoraSession::StartConversation(const FString& Persona, bool bSpeech, const FString& Voice)
{
	sora::Session* Session = State.IsValid() ? State->GetSession() : nullptr;
	if (!Session)
	{
		UE_LOG(LogSora, Warning, TEXT("StartConversation: not connected (wait for OnConnected)"));
		return;
	}
	auto S = State;
	TWeakObjectPtr<USoraSession> Weak(this);
	sora::ConversationOptions Options;
	Options.persona = ToStd(Persona);
	Options.voice = ToStd(Voice);
	Options.speech = bSpeech;
	Options.output_sample_rate_hz = VoiceSampleRate;
	S->Conversation = Session->Converse(Options);
	S->ConversationReader = std::thread([S, Weak]() {
		v1::ConverseResponse Ev;
		while (S->Conversation->Next(&Ev))
		{
			const FString TurnId = ToF(Ev.turn_id());
			switch (Ev.event_case())
			{
			case v1::ConverseResponse::kTextDelta:
			{
				const FString Text = ToF(Ev.text_delta().text());
				Post(Weak, [Text](USoraSession& Self) { Self.OnAvatarText.Broadcast(Text); });
				break;
			}
			case v1::ConverseResponse::kAudio:
			{
				FSoraAvatarAudio A;
				A.Pcm16.Append(reinterpret_cast<const uint8*>(Ev.audio().pcm16().data()), static_cast<int32>(Ev.audio().pcm16().size()));
				A.SampleRate = static_cast<int32>(Ev.audio().sample_rate_hz());
				A.StartSeconds = static_cast<float>(Ev.audio().start_s());
				Post(Weak, [A](USoraSession& Self) {
					if (Self.Voice && A.SampleRate == VoiceSampleRate) Self.Voice->QueueAudio(A.Pcm16.GetData(), A.Pcm16.Num());
					Self.OnAvatarAudio.Broadcast(A);
				});
				break;
			}
			case v1::ConverseResponse::kVisemes:
			{
				TArray<FSoraVisemeKey> Keys;
				for (const v1::VisemeKey& K : Ev.visemes().keys())
				{
					FSoraVisemeKey Key;
					Key.Viseme = static_cast<int32>(K.viseme());
					Key.StartSeconds = static_cast<float>(K.start_s());
					Key.Weight = K.weight();
					Keys.Add(Key);
				}
				Post(Weak, [Keys](USoraSession& Self) { Self.OnAvatarVisemes.Broadcast(Keys); });
				break;
			}
			case v1::ConverseResponse::kEmotion:
			{
				FSoraEmotion E;
				E.Emotion = EnumSuffix(v1::Emotion_Name(Ev.emotion().emotion()), "EMOTION_");
				E.Intensity = Ev.emotion().intensity();
				E.StartSeconds = static_cast<float>(Ev.emotion().start_s());
				Post(Weak, [E](USoraSession& Self) { Self.OnAvatarEmotion.Broadcast(E); });
				break;
			}
			case v1::ConverseResponse::kLookAt:
			{
				const FSoraTarget T = Target(Ev.look_at().target());
				Post(Weak, [T](USoraSession& Self) { Self.OnAvatarLookAt.Broadcast(T); });
				break;
			}
			case v1::ConverseResponse::kPointAt:
			{
				const FSoraTarget T = Target(Ev.point_at().target());
				Post(Weak, [T](USoraSession& Self) { Self.OnAvatarPointAt.Broadcast(T); });
				break;
			}
			case v1::ConverseResponse::kBody:
			{
				const FString G = EnumSuffix(v1::BodyGesture_Name(Ev.body().gesture()), "BODY_GESTURE_");
				Post(Weak, [G](USoraSession& Self) { Self.OnAvatarBodyGesture.Broadcast(G); });
				break;
			}
			case v1::ConverseResponse::kTurnEnd:
			{
				FSoraTurnEnd E;
				E.TurnId = TurnId;
				E.Reason = EnumSuffix(v1::TurnEndReason_Name(Ev.turn_end().reason()), "TURN_END_REASON_");
				E.SpokenText = ToF(Ev.turn_end().spoken_text());
				E.Detail = ToF(Ev.turn_end().detail());
				Post(Weak, [E](USoraSession& Self) { Self.OnAvatarTurnEnd.Broadcast(E); });
				break;
			}
			default:
				break;
			}
		}
		try
		{
			S->Conversation->Finish();
		}
		catch (const std::exception& E)
		{
			// A production client reopens with ConversationOptions::resume_from = position(); see docs/unreal.md.
			if (!S->bClosing)
			{
				const FString Message = ToF(E.what());
				Post(Weak, [Message](USoraSession& Self) { Self.OnError.Broadcast(Message); });
			}
		}
	});
}

void USoraSession::Say(const FString& Text)
{
	if (!State.IsValid() || !State->Conversation) return;
	try
	{
		State->Conversation->Say(ToStd(Text));
	}
	catch (const std::exception& E)
	{
		OnError.Broadcast(ToF(E.what()));
	}
}

void USoraSession::Interrupt()
{
	if (!State.IsValid() || !State->Conversation) return;
	try
	{
		State->Conversation->Interrupt("user");
	}
	catch (const std::exception& E)
	{
		OnError.Broadcast(ToF(E.what()));
	}
	if (Voice) Voice->ResetAudio();
}

USoundWaveProcedural* USoraSession::GetVoice()
{
	if (!Voice)
	{
		Voice = NewObject<USoundWaveProcedural>(this);
		Voice->SetSampleRate(VoiceSampleRate);
		Voice->NumChannels = 1;
		Voice->Duration = INDEFINITELY_LOOPING_DURATION;
		Voice->SoundGroup = SOUNDGROUP_Voice;
		Voice->bLooping = false;
	}
	return Voice;
}

void USoraSession::SetState(ESoraConnectionState NewState)
{
	OnConnectionStateChanged.Broadcast(NewState);
}
