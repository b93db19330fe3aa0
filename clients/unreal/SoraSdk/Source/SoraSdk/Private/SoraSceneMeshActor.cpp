#include "SoraSceneMeshActor.h"

#include "ProceduralMeshComponent.h"
#include "SoraSession.h"

ASoraSceneMeshActor::ASoraSceneMeshActor()
{
	PrimaryActorTick.bCanEverTick = false;
	Mesh = CreateDefaultSubobject<UProceduralMeshComponent>(TEXT("SoraSceneMesh"));
	RootComponent = Mesh;
	Mesh->bUseAsyncCooking = true;  // collision cooks off the game thread
}

void ASoraSceneMeshActor::Bind(USoraSession* Session)
{
	if (!Session) return;
	Session->OnChunkUpdated.AddDynamic(this, &ASoraSceneMeshActor::HandleChunk);
	Session->OnChunkRemoved.AddDynamic(this, &ASoraSceneMeshActor::HandleRemoved);
	Session->WatchScene();
}

void ASoraSceneMeshActor::HandleChunk(const FSoraMeshChunk& Chunk)
{
	int32* Existing = Sections.Find(Chunk.Block);
	int32 Section;
	if (Existing)
	{
		Section = *Existing;
	}
	else
	{
		Section = FreeSections.Num() > 0 ? FreeSections.Pop() : Sections.Num();
		Sections.Add(Chunk.Block, Section);
	}
	const TArray<FVector2D> NoUVs;
	const TArray<FProcMeshTangent> NoTangents;
	Mesh->CreateMeshSection(Section, Chunk.Vertices, Chunk.Triangles, Chunk.Normals, NoUVs, Chunk.Colors, NoTangents, bCreateCollision);
	if (ChunkMaterial) Mesh->SetMaterial(Section, ChunkMaterial);
}

void ASoraSceneMeshActor::HandleRemoved(FIntVector Block)
{
	int32 Section;
	if (!Sections.RemoveAndCopyValue(Block, Section)) return;
	Mesh->ClearMeshSection(Section);
	FreeSections.Add(Section);
}
