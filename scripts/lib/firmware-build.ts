// Builds firmware images with the pinned DeviceScript compiler: the simulator/host entry
// (src/main.ts) and one entry per board (src/boards/<id>.ts, which selects boards/<id>.board.json).
// The DeviceScript CLI writes every build to ./.devicescript/bin/bytecode.devs, which the simulator
// and the VM tests also build and read, possibly at the same time (vitest runs files in parallel).
// Board builds therefore run in a private workspace (a temporary directory linking the project's
// sources and node_modules) and only their result is copied to .devicescript/bin/<target>.devs.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs"
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

/**
 * DeviceScript's hard limit on an image's code: the function descriptors and the function bodies
 * must end below 64 KiB of the image (the runtime's verifier, runtime/devicescript/verify.c, check
 * 1051 "prevProc < 0x10000"; the compiler runs the same verifier and fails with "verification
 * error: -1051"). Strings, floats and the service specs come after the code and do not count.
 */
export const CODE_LIMIT_BYTES = 0x10000

/** Where an image's code section ends (header + function descriptors + function bodies), bytes. */
export function codeEndBytes(image: Uint8Array): number {
    const view = new DataView(image.buffer, image.byteOffset, image.byteLength)
    // devs_img_header_t: 32 fixed bytes, then sections of { start, length } (u32 LE):
    // functions (descriptors), then functions_data (bodies).
    const dataStart = view.getUint32(32 + 8, true)
    const dataLength = view.getUint32(32 + 12, true)
    return dataStart + dataLength
}

/** A failed build's output explained when it is the code-section limit. */
export function explainBuildFailure(output: string): string {
    if (!/verification error: -1051/.test(output)) return ""
    return `the image's code section would end past ${CODE_LIMIT_BYTES} bytes (DeviceScript's 64 KiB limit, verifier check 1051): shrink the code (docs/boards.md, "Build and bytecode budget")`
}

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
    /** End of the code section (must stay below CODE_LIMIT_BYTES), bytes. */
    codeBytes: number
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
    const run = (cwd: string) => compileInto(cwd, target, entry, entry)
    return target === SIM_TARGET ? run(ROOT) : inWorkspace(run)
}

/**
 * Compiles `entry` in `cwd` and, when it builds, copies the image and its per-function sizes to
 * .devicescript/bin/<target>.devs and <target>-sizes.md with their sizes; a failure says why when
 * it is the code-section limit. `label` names the entry in the result.
 */
export async function compileInto(cwd: string, target: string, entry: string, label: string): Promise<BuildResult> {
    const image = join(BIN_DIR, `${target}.devs`)
    const res = await runDevs(["build", "--quiet", entry], { cwd })
    const out: BuildResult = { target, entry: label, ok: res.code === 0, output: res.output, image, bytes: 0, codeBytes: 0 }
    if (out.ok) {
        mkdirSync(BIN_DIR, { recursive: true })
        copyFileSync(join(cwd, ".devicescript", "bin", "bytecode.devs"), image)
        copyFileSync(join(cwd, ".devicescript", "bin", "bytecode-sizes.md"), join(BIN_DIR, `${target}-sizes.md`))
        out.bytes = statSync(image).size
        out.codeBytes = codeEndBytes(readFileSync(image))
    } else {
        const why = explainBuildFailure(res.output)
        if (why) out.output += `\n${target}: ${why}\n`
    }
    return out
}
