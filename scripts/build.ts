// `npm run build` (and, until the simulator lands, `npm start`): compiles the firmware
// (src/main.ts) with the pinned DeviceScript compiler and prints the bytecode size.
import { statSync } from "node:fs"
import { join } from "node:path"
import { ROOT } from "./lib/devs-config.js"
import { runDevs } from "./lib/devs-cli.js"

const BYTECODE = join(ROOT, ".devicescript", "bin", "bytecode.devs")

const res = await runDevs(["build", "--quiet", "src/main.ts"])
if (res.code !== 0) {
    process.stdout.write(res.output)
    console.error("firmware build FAILED")
    process.exit(1)
}
const bytes = statSync(BYTECODE).size
console.log(`firmware: src/main.ts -> .devicescript/bin/bytecode.devs, ${bytes} bytes (${(bytes / 1024).toFixed(1)} KiB) of bytecode`)
console.log("per-function sizes: .devicescript/bin/bytecode-sizes.md")
