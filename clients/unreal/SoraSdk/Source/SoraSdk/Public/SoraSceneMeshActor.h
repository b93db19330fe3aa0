// Renders a Sora session's scene mesh: one procedural mesh section per chunk, with collision.
#pragma once

#include "CoreMinimal.h"
#include "GameFramework/Actor.h"
#include "SoraTypes.h"
#include "SoraSceneMeshActor.generated.h"

class UProceduralMeshComponent;
class UMaterialInterface;
class USoraSession;

UCLASS(Blueprintable)
class SORASDK_API ASoraSceneMeshActor : public AActor
{
	GENERATED_BODY()

public:
	ASoraSceneMeshActor();

	/** Binds to the session's scene events and starts its scene watch. Keep this actor at the world origin. */
	UFUNCTION(BlueprintCallable, Category = "Sora")
	void Bind(USoraSession* Session);

	/** Vertex-colour material for the chunks (e.g. one that outputs the Vertex Color node). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Sora")
	TObjectPtr<UMaterialInterface> ChunkMaterial;

	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Sora")
	bool bCreateCollision = true;

	UPROPERTY(VisibleAnywhere, BlueprintReadOnly, Category = "Sora")
	TObjectPtr<UProceduralMeshComponent> Mesh;

private:
	UFUNCTION() void HandleChunk(const FSoraMeshChunk& Chunk);
	UFUNCTION() void HandleRemoved(FIntVector Block);

	/** Section index per block; freed indices are reused. */
	TMap<FIntVector, int32> Sections;
	TArray<int32> FreeSections;
};
