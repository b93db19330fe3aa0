// Blueprint-facing data of the Sora SDK. Everything here is in Unreal's frame (centimetres,
// left-handed, Z up); the conversion from Sora's frame happens in SoraCoordinates only.
#pragma once

#include "CoreMinimal.h"
#include "SoraTypes.generated.h"

UENUM(BlueprintType)
enum class ESoraTargetKind : uint8
{
	None = 0,
	Surface = 1,
	Plane = 2,
	Object = 3,
	Anchor = 4,
	User = 5,
	Point = 6,
};

UENUM(BlueprintType)
enum class ESoraConnectionState : uint8
{
	Disconnected,
	Connecting,
	Connected,
	Reconnecting,
	Failed,
};

/** What a gaze or pointing ray (or an avatar cue) rests on. */
USTRUCT(BlueprintType)
struct SORASDK_API FSoraTarget
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "Sora") ESoraTargetKind Kind = ESoraTargetKind::None;
	/** Plane, object or anchor ID when Kind names one. */
	UPROPERTY(BlueprintReadOnly, Category = "Sora") FString Id;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") FString Label;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") FVector Point = FVector::ZeroVector;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") FVector Normal = FVector::ZeroVector;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") float DistanceCm = 0.f;
};

/** One mesh chunk, ready for a procedural mesh section. */
USTRUCT(BlueprintType)
struct SORASDK_API FSoraMeshChunk
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "Sora") FIntVector Block = FIntVector::ZeroValue;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") int64 Version = 0;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") TArray<FVector> Vertices;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") TArray<FVector> Normals;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") TArray<FColor> Colors;
	/** Three indices per triangle, wound for Unreal's front faces. */
	UPROPERTY(BlueprintReadOnly, Category = "Sora") TArray<int32> Triangles;
};

USTRUCT(BlueprintType)
struct SORASDK_API FSoraSceneStats
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "Sora") int32 Chunks = 0;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") int64 Triangles = 0;
	/** "epoch:sequence" of the last applied scene version. */
	UPROPERTY(BlueprintReadOnly, Category = "Sora") FString Position;
};

USTRUCT(BlueprintType)
struct SORASDK_API FSoraGestureEvent
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "Sora") int32 HandId = 0;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") bool bLeftHand = false;
	/** GESTURE_TYPE_* without the prefix: "PINCH", "POINT", "THUMB_UP", "SWIPE_LEFT" … */
	UPROPERTY(BlueprintReadOnly, Category = "Sora") FString Gesture;
	/** "START", "UPDATE", "END" or "INSTANT". */
	UPROPERTY(BlueprintReadOnly, Category = "Sora") FString Phase;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") float Confidence = 0.f;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") float Strength = 0.f;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") FVector Displacement = FVector::ZeroVector;
};

USTRUCT(BlueprintType)
struct SORASDK_API FSoraPointingEvent
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "Sora") int32 HandId = 0;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") FString Phase;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") FVector RayOrigin = FVector::ZeroVector;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") FVector RayDirection = FVector::ForwardVector;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") FSoraTarget Target;
};

USTRUCT(BlueprintType)
struct SORASDK_API FSoraGaze
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "Sora") FVector Origin = FVector::ZeroVector;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") FVector Direction = FVector::ForwardVector;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") FSoraTarget Target;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") float DwellSeconds = 0.f;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") bool bFixating = false;
};

/** A chunk of the avatar's speech: little-endian int16 mono PCM. */
USTRUCT(BlueprintType)
struct SORASDK_API FSoraAvatarAudio
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "Sora") TArray<uint8> Pcm16;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") int32 SampleRate = 0;
	/** Time of the first sample from the start of the turn's audio. */
	UPROPERTY(BlueprintReadOnly, Category = "Sora") float StartSeconds = 0.f;
};

USTRUCT(BlueprintType)
struct SORASDK_API FSoraVisemeKey
{
	GENERATED_BODY()

	/** Oculus viseme index: 1 sil, 2 PP, 3 FF, 4 TH, 5 DD, 6 kk, 7 CH, 8 SS, 9 nn, 10 RR, 11 aa, 12 E, 13 I, 14 O, 15 U. */
	UPROPERTY(BlueprintReadOnly, Category = "Sora") int32 Viseme = 0;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") float StartSeconds = 0.f;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") float Weight = 0.f;
};

USTRUCT(BlueprintType)
struct SORASDK_API FSoraEmotion
{
	GENERATED_BODY()

	/** EMOTION_* without the prefix: "HAPPY", "THINKING" … */
	UPROPERTY(BlueprintReadOnly, Category = "Sora") FString Emotion;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") float Intensity = 0.f;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") float StartSeconds = 0.f;
};

USTRUCT(BlueprintType)
struct SORASDK_API FSoraTurnEnd
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "Sora") FString TurnId;
	/** "COMPLETED", "INTERRUPTED" or "ERROR". */
	UPROPERTY(BlueprintReadOnly, Category = "Sora") FString Reason;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") FString SpokenText;
	UPROPERTY(BlueprintReadOnly, Category = "Sora") FString Detail;
};

/** One RGB-D frame to send, in Unreal terms (images top row first). */
USTRUCT(BlueprintType)
struct SORASDK_API FSoraCameraFrame
{
	GENERATED_BODY()

	/** The camera's world transform (Unreal camera axes: +X forward, +Z up). */
	UPROPERTY(BlueprintReadWrite, Category = "Sora") FTransform CameraToWorld;
	/** OpenCV-style pinhole intrinsics in pixels at the depth image's resolution. */
	UPROPERTY(BlueprintReadWrite, Category = "Sora") float Fx = 0.f;
	UPROPERTY(BlueprintReadWrite, Category = "Sora") float Fy = 0.f;
	UPROPERTY(BlueprintReadWrite, Category = "Sora") float Cx = 0.f;
	UPROPERTY(BlueprintReadWrite, Category = "Sora") float Cy = 0.f;
	/** JPEG or PNG bytes (bColorIsPng), or empty. */
	UPROPERTY(BlueprintReadWrite, Category = "Sora") TArray<uint8> EncodedColor;
	UPROPERTY(BlueprintReadWrite, Category = "Sora") bool bColorIsPng = false;
	UPROPERTY(BlueprintReadWrite, Category = "Sora") int32 ColorWidth = 0;
	UPROPERTY(BlueprintReadWrite, Category = "Sora") int32 ColorHeight = 0;
	/** Depth in metres, 0 for none; empty for a colour-only frame. */
	UPROPERTY(BlueprintReadWrite, Category = "Sora") TArray<float> DepthMeters;
	UPROPERTY(BlueprintReadWrite, Category = "Sora") int32 DepthWidth = 0;
	UPROPERTY(BlueprintReadWrite, Category = "Sora") int32 DepthHeight = 0;
};
