// Builds firmware images with the pinned DeviceScript compiler: the simulator/host entry
// (src/main.ts) and one entry per board (src/boards/<id>.ts, which selects boards/<id>.board.json).
// Each build overwrites .devicescript/bin/bytecode.devs, so the result is copied to
// .devicescript/bin/<target>.devs.
import { copyFileSync, existsSync, readdirSync, statSync } from "node:fs"
import { join } from "node:path"
import { ROOT } from "./devs-config.js"
import { runDevs } from "./devs-cli.js"

export const BIN_DIR = join(ROOT, ".devicescript", "bin")
export const SIM_TARGET = "sim"

/**
 * Bytecode budget per image, bytes. On the ESP32 targets DeviceScript keeps the deployed program
 * and the settings in one flash-storage region of 64 pages x 4 KiB = 256 KiB (arch configs in
 * @devicescript/cli 2.16.4: fstorOffset 0x1c0000, fstorPages 64). Half of it goes to the program;
 * the other half stays for settings (trip latches, SoC floor, priorities, Wi-Fi/MQTT credentials)
 * and for the store's compaction, which needs free pages. See README "Build and bytecode budget".
 */
export const BYTECODE_BUDGET_BYTES = 128 * 1024

/** Board ids that have both a board file and an entry module. */
export function boardIds(): string[] {
    const entries = readdirSync(join(ROOT, "src", "boards")).filter(f => f.endsWith(".ts"))
    return entries.map(f => f.slice(0, -3)).filter(id => existsSync(join(ROOT, "boards", `${id}.board.json`))).sort()
}

export function entryOf(target: string) {
    return target === SIM_TARGET ? "src/main.ts" : `src/boards/${target}.ts`
}

export interface BuildResult {
    target: string
    entry: string
    ok: boolean
    output: string
    /** .devicescript/bin/<target>.devs */
    image: string
    bytes: number
}

export async function buildTarget(target: string): Promise<BuildResult> {
    const entry = entryOf(target)
    const res = await runDevs(["build", "--quiet", entry])
    const image = join(BIN_DIR, `${target}.devs`)
    const out: BuildResult = { target, entry, ok: res.code === 0, output: res.output, image, bytes: 0 }
    if (out.ok) {
        copyFileSync(join(BIN_DIR, "bytecode.devs"), image)
        out.bytes = statSync(image).size
    }
    return out
}
