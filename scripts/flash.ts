// `npm run flash -- --board <id> --port <dev> [--image <file>] [--esptool <cmd>] [--baud <n>] [--hil] [--dry-run]`
// (--hil: the board's HIL image, docs/hil-bench.md)
//
// Flashes a charger board offline, in three steps (docs/boards.md, "Flashing a board"):
//   1. build: compiles src/boards/<id>.ts (board config + drivers + app) and checks the budget;
//   2. bundle: `devicescript bundle --board <id>` patches the board config (DCFG, 0x9000) into the
//      DeviceScript runtime image and the program into its flash storage (0x1c0000), writing
//      .devicescript/bin/bundle-*.bin. The runtime image comes from --image or the runtime cache
//      and is staged where the CLI looks for a fresh download, so nothing is downloaded;
//   3. esptool write_flash <offset> <bundle> on --port.
// Every input is checked first (exit 2 with all problems); a failing step exits 1. --dry-run
// stops before esptool and prints its command.
import { spawnSync } from "node:child_process"
import { copyFileSync, existsSync, mkdirSync } from "node:fs"
import { createServer } from "node:net"
import { basename, join, relative } from "node:path"
import { ROOT } from "./lib/devs-config.js"
import { runDevs } from "./lib/devs-cli.js"
import { BYTECODE_BUDGET_BYTES, buildTarget, inWorkspace } from "./lib/firmware-build.js"
import { checkFlashInputs } from "./lib/flash-inputs.js"
import { buildHilImage, hilEntryPath, hilTarget, inHilWorkspace } from "../hil/hil-image.js"

const { plan, problems } = checkFlashInputs(process.argv.slice(2))
if (!plan) {
    console.error("flash: cannot flash:")
    for (const p of problems) console.error(`  - ${p}`)
    process.exit(2)
}
const rel = (p: string) => relative(ROOT, p) || p
const fail = (msg: string): never => {
    console.error(`flash: ${msg}`)
    process.exit(1)
}

console.log(`flash: board ${plan.board} (${plan.archId}) on ${plan.port}`)
console.log(`runtime image: ${plan.image}`)
console.log(`  sha256 ${plan.imageSha256}${plan.imagePinned ? " (matches boards/runtime.json)" : ""}`)
if (!plan.imagePinned)
    console.warn(`  WARNING: not pinned: record this sha256 in boards/runtime.json archs.${plan.archId}.sha256 once you trust the image`)
console.log(`esptool: ${plan.esptool.join(" ")}`)

// `devicescript bundle` runs the VM behind a devtools hub on 127.0.0.1:8081-8083 and deploys to
// the first DeviceScript manager it sees there: another hub on those ports (npm run watch) would
// receive our program. Refuse instead.
async function portFree(port: number) {
    return new Promise<boolean>(resolve => {
        const srv = createServer()
        srv.once("error", () => resolve(false))
        srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)))
    })
}
for (const port of [8081, 8082, 8083])
    if (!(await portFree(port)))
        fail(`127.0.0.1:${port} is in use (a DeviceScript devtools hub, e.g. npm run watch?): the bundle step needs these ports for itself; stop that process and retry`)

// 1. build
console.log(plan.hil ? `\n[1/3] build the HIL image of ${plan.board} (docs/hil-bench.md)` : `\n[1/3] build src/boards/${plan.board}.ts`)
const built = plan.hil ? await buildHilImage(plan.board) : await buildTarget(plan.board)
if (!built.ok) {
    process.stdout.write(built.output)
    fail("build failed")
}
console.log(`  ${rel(built.image)}: ${built.bytes} bytes of bytecode (budget ${BYTECODE_BUDGET_BYTES})`)
if (built.bytes > BYTECODE_BUDGET_BYTES) fail(`bytecode over budget by ${built.bytes - BYTECODE_BUDGET_BYTES} bytes`)

// 2. bundle, in a private workspace (its own .devicescript/): stage the runtime image as the CLI's
// fresh cache entry (it re-downloads entries older than 24 h and patches the board config into a
// copy), then bundle; the result is copied to .devicescript/bin/.
console.log(`\n[2/3] bundle runtime + board config + program`)
const workspace = plan.hil ? <T>(fn: (ws: string) => Promise<T>) => inHilWorkspace(plan.board, fn) : inWorkspace
const bundleFile = await workspace(async ws => {
    const cacheDir = join(ws, ".devicescript", "cache")
    mkdirSync(cacheDir, { recursive: true })
    copyFileSync(plan.image, join(cacheDir, plan.runtime.file))
    const bundle = plan.hil
        ? await runDevs(["bundle", "--board", hilTarget(plan.board), hilEntryPath(plan.board)], { cwd: ws })
        : await runDevs(["bundle", "--board", plan.board, `src/boards/${plan.board}.ts`], { cwd: ws })
    const m = /writing (\d+) bytes to (\S+)/.exec(bundle.output)
    if (bundle.code !== 0 || !m || /\bfetch https?:/.test(bundle.output) || !existsSync(join(ws, m[2]))) {
        process.stdout.write(bundle.output)
        fail("bundle step failed")
    }
    const out = join(ROOT, ".devicescript", "bin", basename(m[2]))
    copyFileSync(join(ws, m[2]), out)
    console.log(`  ${rel(out)}: ${m[1]} bytes (runtime at ${plan.runtime.offset}, board config at 0x9000, program in flash storage at 0x1c0000)`)
    return out
})

// 3. esptool
const args = [
    ...plan.esptool.slice(1),
    "--chip",
    plan.runtime.chip,
    "--port",
    plan.port,
    "--baud",
    String(plan.baud),
    "--before",
    "default_reset",
    "--after",
    "hard_reset",
    "write_flash",
    plan.runtime.offset,
    bundleFile,
]
console.log(`\n[3/3] ${plan.esptool[0]} ${args.join(" ")}`)
if (plan.dryRun) {
    console.log("flash: --dry-run: stopped before writing to the board")
    process.exit(0)
}
const r = spawnSync(plan.esptool[0], args, { stdio: "inherit" })
if (r.status !== 0) fail(`esptool failed (exit ${r.status ?? r.signal}); is the board in its bootloader (hold BOOT, tap EN)?`)
console.log("flash: done; the board restarts into the charger firmware")
