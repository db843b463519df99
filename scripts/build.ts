// `npm run build [-- --board <id> [--hil]]`: compiles the firmware for the simulator/host entry
// (src/main.ts) and for every board (src/boards/<id>.ts), or for one board, with the pinned
// DeviceScript compiler; prints each image's bytecode size against the budget and fails (exit 1)
// if a build fails or an image is over budget. Images: .devicescript/bin/<target>.devs.
// --hil builds the board's HIL image instead (hil/hil-image.ts: the application on the board
// config without drivers or GPIO services; the bench serves those roles): <id>_hil.devs.
import { parseArgs } from "node:util"
import { relative } from "node:path"
import { ROOT } from "./lib/devs-config.js"
import { BYTECODE_BUDGET_BYTES, CODE_LIMIT_BYTES, SIM_TARGET, boardIds, buildTarget } from "./lib/firmware-build.js"
import { buildHilImage } from "../hil/hil-image.js"

const { values } = parseArgs({ options: { board: { type: "string" }, hil: { type: "boolean" } }, strict: true })
const boards = boardIds()
if (values.board !== undefined && !boards.includes(values.board)) {
    console.error(`build: unknown board ${JSON.stringify(values.board)} (known: ${boards.join(", ")})`)
    process.exit(2)
}
if (values.hil && values.board === undefined) {
    console.error(`build: --hil needs --board <id> (known: ${boards.join(", ")})`)
    process.exit(2)
}
// the simulator entry last, so .devicescript/bin/bytecode.devs is src/main.ts's as before
const targets = values.board ? [values.board] : [...boards, SIM_TARGET]

const kib = (n: number) => (n / 1024).toFixed(1) + " KiB"
let failed = false
console.log(`bytecode budget: ${BYTECODE_BUDGET_BYTES} bytes (${kib(BYTECODE_BUDGET_BYTES)}) per image; code section below ${CODE_LIMIT_BYTES} bytes (DeviceScript's limit)`)
for (const t of targets) {
    const r = values.hil ? await buildHilImage(t) : await buildTarget(t)
    if (!r.ok) {
        process.stdout.write(r.output)
        console.error(`${t}: ${r.entry}: build FAILED`)
        failed = true
        continue
    }
    const share = ((100 * r.bytes) / BYTECODE_BUDGET_BYTES).toFixed(1)
    const over = r.bytes > BYTECODE_BUDGET_BYTES
    const code = ((100 * r.codeBytes) / CODE_LIMIT_BYTES).toFixed(1)
    const line = `${r.target.padEnd(18)} ${r.entry.padEnd(30)} -> ${relative(ROOT, r.image)}: ${r.bytes} bytes (${kib(r.bytes)}), ${share} % of budget; code ${r.codeBytes} bytes, ${code} % of the code limit`
    if (over) {
        console.error(line + ` OVER BUDGET by ${r.bytes - BYTECODE_BUDGET_BYTES} bytes`)
        failed = true
    } else console.log(line)
}
console.log("per-function sizes: .devicescript/bin/<target>-sizes.md")
if (failed) {
    console.error("build FAILED")
    process.exit(1)
}
