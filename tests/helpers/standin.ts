// For the HIL tests: start the stand-in board (`hil/standin.ts`, as `npm run standin` does) and
// run `npm run hil` against it as a user would (spawned; exit code, output, summary.json).
import { spawn, type ChildProcess } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ROOT } from "../../scripts/lib/devs-config"

export interface StandIn {
    /** The pty path (serial stand-in) or tcp://127.0.0.1:PORT (hub stand-in). */
    address: string
    child: ChildProcess
    output: string[]
    stop(): void
}

/** Starts a stand-in and resolves once it printed its first line (port: ... or hub: ...). */
export function startStandIn(args: string[] = [], timeoutMs = 120_000): Promise<StandIn> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", "hil/standin.ts", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] })
        const output: string[] = []
        let buf = ""
        const timer = setTimeout(() => {
            child.kill()
            reject(new Error(`the stand-in printed no address within ${timeoutMs / 1000} s:\n${output.join("\n")}`))
        }, timeoutMs)
        child.stdout!.on("data", (d: Buffer) => {
            buf += d.toString()
            const lines = buf.split("\n")
            buf = lines.pop()!
            for (const l of lines) {
                output.push(l)
                const m = /^(port|hub): (\S+)$/.exec(l)
                if (output.length === 1) {
                    clearTimeout(timer)
                    if (!m) return reject(new Error(`the stand-in's first line is not its address: ${l}`))
                    resolve({ address: m[2], child, output, stop: () => child.pid && child.exitCode === null && child.kill("SIGTERM") })
                }
            }
        })
        child.stderr!.on("data", (d: Buffer) => output.push(d.toString()))
        child.on("exit", code => {
            clearTimeout(timer)
            reject(new Error(`the stand-in exited (${code}):\n${output.join("\n")}`))
        })
    })
}

export interface HilResult {
    code: number | null
    out: string
    err: string
    summary: any
    dir: string
}

/** Runs `hil/main.ts` (npm run hil) with the given arguments; results in a fresh directory. */
export function runHil(args: string[], timeoutMs: number, onStdout?: (soFar: string) => void): Promise<HilResult> {
    const dir = mkdtempSync(join(tmpdir(), "hil-run-"))
    return new Promise(resolve => {
        const child = spawn(process.execPath, ["--import", "tsx", "hil/main.ts", ...args, "--out", dir], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] })
        let out = ""
        let err = ""
        child.stdout!.on("data", d => {
            out += d
            onStdout?.(out)
        })
        child.stderr!.on("data", d => (err += d))
        const timer = setTimeout(() => child.kill(), timeoutMs)
        child.on("exit", code => {
            clearTimeout(timer)
            const f = join(dir, "summary.json")
            resolve({ code, out, err, dir, summary: existsSync(f) ? JSON.parse(readFileSync(f, "utf8")) : undefined })
        })
    })
}

/**
 * Runs the bench until its own timing was trustworthy (the plant never lagged the wall clock past
 * the jitter bound), at most `tries` times: on a loaded machine the bench says when its times
 * cannot be trusted, and such a run proves nothing either way.
 */
export async function runHilTrusted(args: string[], timeoutMs: number, tries = 3): Promise<HilResult & { attempts: number }> {
    let r: HilResult
    for (let i = 1; i <= tries; i++) {
        r = await runHil(args, timeoutMs)
        if (r.summary?.hil?.timing_trustworthy !== false) return { ...r, attempts: i }
    }
    return { ...r, attempts: tries }
}
