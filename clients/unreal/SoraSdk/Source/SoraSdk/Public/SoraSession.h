// A Sora session for Blueprints and game code: connect, stream frames and head pose, watch the
// scene and perception, converse with the avatar. Events are broadcast on the game thread.
#pragma once

#include "CoreMinimal.h"
#include "SoraTypes.h"
#include "UObject/Object.h"
#include "SoraSession.generated.h"

class USoundWaveProcedural;
struct FSoraSessionState;

DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FSoraConnectedSignature, const FString&, SessionId);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FSoraConnectionStateSignature, ESoraConnectionState, State);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FSoraErrorSignature, const FString&, Message);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FSoraChunkSignature, const FSoraMeshChunk&, Chunk);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FSoraChunkRemovedSignature, FIntVector, Block);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FSoraSceneStatsSignature, const FSoraSceneStats&, Stats);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FSoraGestureSignature, const FSoraGestureEvent&, Gesture);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FSoraPointingSignature, const FSoraPointingEvent&, Pointing);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FSoraGazeSignature, const FSoraGaze&, Gaze);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FSoraTargetSignature, const FSoraTarget&, Target);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FSoraTextSignature, const FString&, Text);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FSoraAudioSignature, const FSoraAvatarAudio&, Audio);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FSoraVisemesSignature, const TArray<FSoraVisemeKey>&, Keys);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FSoraEmotionSignature, const FSoraEmotion&, Emotion);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FSoraBodyGestureSignature, const FString&, Gesture);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FSoraTurnEndSignature, const FSoraTurnEnd&, TurnEnd);

/**
 * One connection to a Sora server and one session on it. Keep it alive with a UPROPERTY (on the
 * GameInstance, a subsystem or an actor). Watches resume by themselves after a dropped
 * connection (the C++ client's sora::Watch); the conversation resumes from its last event.
 */
UCLASS(BlueprintType)
class SORASDK_API USoraSession : public UObject
{
	GENERATED_BODY()

public:
	USoraSession();
	virtual void BeginDestroy() override;

	/** Connects and creates a session (or joins ExistingSessionId). Completes with OnConnected or OnError. */
	UFUNCTION(BlueprintCallable, Category = "Sora")
	void Connect(const FString& Target = TEXT("127.0.0.1:50051"), const FString& DisplayName = TEXT("Unreal"),
	             const FString& ExistingSessionId = TEXT(""), bool bUseTls = false);

	/** Ends every stream and drops the connection. */
	UFUNCTION(BlueprintCallable, Category = "Sora")
	void Close();

	UFUNCTION(BlueprintPure, Category = "Sora")
	FString GetSessionId() const;

	/** Starts mirroring the scene: OnChunkUpdated / OnChunkRemoved / OnSceneChanged. */
	UFUNCTION(BlueprintCallable, Category = "Sora")
	void WatchScene();

	/** Starts perception events: OnGesture, OnPointing, OnGaze, OnGazeTargetChanged. */
	UFUNCTION(BlueprintCallable, Category = "Sora")
	void WatchPerception(bool bIncludeHands = true, bool bIncludeGaze = true);

	/** Opens the sensor stream (REALTIME: the server drops stale frames when busy). */
	UFUNCTION(BlueprintCallable, Category = "Sora")
	void StartSensorStream(const FString& StreamName = TEXT("unreal"), bool bLossless = false);

	/** Queues a frame on the sensor stream (sent from a worker thread). */
	UFUNCTION(BlueprintCallable, Category = "Sora")
	void SendCameraFrame(const FSoraCameraFrame& Frame);

	/** Queues the head pose (the camera or HMD world transform). */
	UFUNCTION(BlueprintCallable, Category = "Sora")
	void SendHeadPose(const FTransform& HeadToWorld);

	/** Opens the conversation with the avatar. */
	UFUNCTION(BlueprintCallable, Category = "Sora")
	void StartConversation(const FString& Persona = TEXT(""), bool bSpeech = true, const FString& Voice = TEXT("en-us"));

	UFUNCTION(BlueprintCallable, Category = "Sora")
	void Say(const FString& Text);

	UFUNCTION(BlueprintCallable, Category = "Sora")
	void Interrupt();

	/** A procedural sound wave fed with the avatar's speech; play it on an AudioComponent at the head. */
	UFUNCTION(BlueprintCallable, Category = "Sora")
	USoundWaveProcedural* GetVoice();

	UPROPERTY(BlueprintAssignable, Category = "Sora") FSoraConnectedSignature OnConnected;
	UPROPERTY(BlueprintAssignable, Category = "Sora") FSoraConnectionStateSignature OnConnectionStateChanged;
	UPROPERTY(BlueprintAssignable, Category = "Sora") FSoraErrorSignature OnError;

	UPROPERTY(BlueprintAssignable, Category = "Sora|Scene") FSoraChunkSignature OnChunkUpdated;
	UPROPERTY(BlueprintAssignable, Category = "Sora|Scene") FSoraChunkRemovedSignature OnChunkRemoved;
	UPROPERTY(BlueprintAssignable, Category = "Sora|Scene") FSoraSceneStatsSignature OnSceneChanged;

	UPROPERTY(BlueprintAssignable, Category = "Sora|Perception") FSoraGestureSignature OnGesture;
	UPROPERTY(BlueprintAssignable, Category = "Sora|Perception") FSoraPointingSignature OnPointing;
	UPROPERTY(BlueprintAssignable, Category = "Sora|Perception") FSoraGazeSignature OnGaze;
	UPROPERTY(BlueprintAssignable, Category = "Sora|Perception") FSoraTargetSignature OnGazeTargetChanged;

	UPROPERTY(BlueprintAssignable, Category = "Sora|Avatar") FSoraTextSignature OnAvatarText;
	UPROPERTY(BlueprintAssignable, Category = "Sora|Avatar") FSoraAudioSignature OnAvatarAudio;
	UPROPERTY(BlueprintAssignable, Category = "Sora|Avatar") FSoraVisemesSignature OnAvatarVisemes;
	UPROPERTY(BlueprintAssignable, Category = "Sora|Avatar") FSoraEmotionSignature OnAvatarEmotion;
	UPROPERTY(BlueprintAssignable, Category = "Sora|Avatar") FSoraTargetSignature OnAvatarLookAt;
	UPROPERTY(BlueprintAssignable, Category = "Sora|Avatar") FSoraTargetSignature OnAvatarPointAt;
	UPROPERTY(BlueprintAssignable, Category = "Sora|Avatar") FSoraBodyGestureSignature OnAvatarBodyGesture;
	UPROPERTY(BlueprintAssignable, Category = "Sora|Avatar") FSoraTurnEndSignature OnAvatarTurnEnd;

private:
	/** Runs Fn on the game thread if this session is still alive then. */
	void OnGameThread(TFunction<void(USoraSession&)> Fn);
	void SetState(ESoraConnectionState State);

	UPROPERTY() TObjectPtr<USoundWaveProcedural> Voice;

	/** The C++ client's objects and worker threads (no Unreal types leak into gRPC code and back). */
	TSharedPtr<FSoraSessionState, ESPMode::ThreadSafe> State;
};
