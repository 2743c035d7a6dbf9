// The Discord emulator in a process of its own, as discord.com is another machine: prints
// {port, caPath, connectTo} as one JSON line, serves until SIGTERM. Driven through its admin API.
import { startEmulator } from '../dist/emulator/index.js';

const emulator = await startEmulator({ dir: process.argv[2] });
process.stdout.write(`${JSON.stringify({ port: emulator.port, caPath: emulator.caPath, connectTo: emulator.connectTo })}\n`);
process.on('SIGTERM', () => void emulator.stop().then(() => process.exit(0)));
