// The ModelArts emulator in a process of its own, for the benchmarks: its work (latency timers,
// JSON, the request log) does not compete with the pipeline being measured for the same event
// loop. Started by local/emulator/startEmulatorProcess.ts; prints one JSON line with its URLs, then serves
// until its parent disconnects or it gets SIGTERM. Binds to 127.0.0.1 only.
import { startEmulatorAdmin } from './emulatorAdmin.js';
import { ModelArtsEmulator } from './modelArtsEmulator.js';

const emulator = new ModelArtsEmulator();
const url = await emulator.start(0);
const admin = await startEmulatorAdmin(emulator, 0);

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.all([emulator.stop(), admin.stop()]);
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
// The parent went away (or closed the channel): never outlive it.
process.on('disconnect', () => void shutdown());

process.stdout.write(`${JSON.stringify({ url, admin: admin.url })}\n`);
