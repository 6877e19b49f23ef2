// Standalone entry for the emulator before the janitor's CLI wires it in: `npx tsx emulator/main.ts --port 8080`.
import { EmulatorCliError, runEmulatorCli } from './cli.js';

runEmulatorCli(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = error instanceof EmulatorCliError ? 2 : 1;
});
