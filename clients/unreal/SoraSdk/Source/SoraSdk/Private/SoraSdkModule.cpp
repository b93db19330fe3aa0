#include "SoraSdkModule.h"

DEFINE_LOG_CATEGORY(LogSora);

void FSoraSdkModule::StartupModule()
{
	UE_LOG(LogSora, Log, TEXT("Sora SDK module loaded"));
}

void FSoraSdkModule::ShutdownModule()
{
}

IMPLEMENT_MODULE(FSoraSdkModule, SoraSdk)
