// Builds firmware images with the pinned DeviceScript compiler: the simulator/host entry
// (src/main.ts) and one entry per board (src/boards/<id>.ts, which selects boards/<id>.board.json).
// The DeviceScript CLI writes every build to ./.devicescript/bin/bytecode.devs, which the simulator
// and the VM tests also build and read, possibly at the same time (vitest runs files in parallel).
// Board builds therefore run in a private workspace (a temporary directory linking the project's
// sources and node_modules) and only their result is copied to .devicescript/bin/<target>.devs.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
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
 * and for the store's compaction, which needs free pages. See docs/boards.md, "Build and bytecode budget".
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
    /** .devicescript/bin/<target>.devs (per-function sizes: <target>-sizes.md) */
    image: string
    bytes: number
}

/** What a DeviceScript build or bundle reads from the project root. */
const WORKSPACE_LINKS = ["devsconfig.json", "package.json", "node_modules", "src", "boards", "services"]

/**
 * Runs `fn` in a private workspace: a temporary directory with links to the project's sources, so
 * that the CLI's outputs (.devicescript/...) land there. Removed afterwards.
 */
export async function inWorkspace<T>(fn: (dir: string) => Promise<T>): Promise<T> {
    const dir = mkdtempSync(join(tmpdir(), "devs-ws-"))
    try {
        for (const name of WORKSPACE_LINKS) symlinkSync(join(ROOT, name), join(dir, name))
        return await fn(dir)
    } finally {
        rmSync(dir, { recursive: true, force: true })
    }
}

/**
 * Builds a target. The simulator entry builds in the project root as before (so
 * .devicescript/bin/bytecode.devs stays src/main.ts's); board entries build in a private workspace.
 */
export async function buildTarget(target: string): Promise<BuildResult> {
    const entry = entryOf(target)
    const image = join(BIN_DIR, `${target}.devs`)
    mkdirSync(BIN_DIR, { recursive: true })
    const run = async (cwd: string) => {
        const res = await runDevs(["build", "--quiet", entry], { cwd })
        const out: BuildResult = { target, entry, ok: res.code === 0, output: res.output, image, bytes: 0 }
        if (out.ok) {
            copyFileSync(join(cwd, ".devicescript", "bin", "bytecode.devs"), image)
            copyFileSync(join(cwd, ".devicescript", "bin", "bytecode-sizes.md"), join(BIN_DIR, `${target}-sizes.md`))
            out.bytes = statSync(image).size
        }
        return out
    }
    return target === SIM_TARGET ? run(ROOT) : inWorkspace(run)
}
