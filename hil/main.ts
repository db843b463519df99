// Entry of `npm run hil` (see hil/cli.ts).
import { hilMain } from "./cli"

process.exitCode = await hilMain(process.argv.slice(2))
// The serial port, the hub socket and the bench's timers are closed; anything else left open
// (a jacdac-ts timer) must not keep a finished bench run alive.
setTimeout(() => process.exit(), 200).unref()
