export type {
  AkSkCredential,
  Emulator,
  EmulatorOptions,
  EmulatorStats,
  EmuTask,
  EmuTaskGroup,
  EmuSyncTask,
  FaultOptions,
  FaultRoute,
  IamUser,
  PublishedMessage,
  SnsFault,
  RawTask,
  TaskFault,
  TaskInput,
  TaskGroupInput,
  SyncTaskInput,
} from './types.js';
export { startEmulator } from './server.js';
export { demoProjects, DEMO_PROJECTS } from './demo-data.js';
export { demoTaskGroups, demoSyncTasks } from './demo-kinds.js';
export { runEmulatorCli, startDemoEmulator, EmulatorCliError, DEMO_TOKEN, DEMO_PORT, demoEmulatorOptions } from './cli.js';
export { DEMO_OTHER_ACCOUNT } from './demo-accounts.js';
export { verifyAkSk, parseAuthorization, canonicalRequest, stringToSign } from './aksk-verify.js';
export type { SignedRequestParts, VerifyContext, VerifyResult } from './aksk-verify.js';
