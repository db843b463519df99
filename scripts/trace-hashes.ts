// npm run trace-hashes -- [--out FILE] [--check FILE] [scenario.json ...]
// Runs library scenarios (default: every sim/scenarios/*.json) through the simulator CLI, one
// after the other, and prints the sha256 of each trace.csv. A refactoring that must not change
// behaviour keeps these hashes identical: record them before (--out), compare after (--check).
// Goes through `sim/cli.ts` (the user's command), not the engine's API, so it keeps working while
// the simulator's modules move. Exit code: 0 ok (or all equal with --check), 1 a run failed to
// write a trace or a hash differs, 2 bad arguments.
import { spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { basename, join, relative, resolve } from "node:path"
import { parseArgs } from "node:util"
import { ROOT } from "./lib/devs-config"

const USAGE = "usage: npm run trace-hashes -- [--out FILE] [--check FILE] [scenario.json ...]"

function main(argv: string[]): number {
    let args
    try {
        args = parseArgs({ args: argv, allowPositionals: true, options: { out: { type: "string" }, check: { type: "string" }, help: { type: "boolean" } } })
    } catch (err: any) {
        console.error(`${err.message}\n${USAGE}`)
        return 2
    }
    if (args.values.help) {
        console.log(USAGE)
        return 0
    }
    const dir = join(ROOT, "sim", "scenarios")
    const files = args.positionals.length
        ? args.positionals.map(f => resolve(f))
        : readdirSync(dir)
              .filter(f => f.endsWith(".json"))
              .sort()
              .map(f => join(dir, f))
    let expected: Map<string, string> | undefined
    if (args.values.check) {
        expected = new Map()
        for (const line of readFileSync(args.values.check, "utf8").split("\n")) {
            const m = /^([0-9a-f]{64})  (.+)$/.exec(line.trim())
            if (m) expected.set(m[2], m[1])
        }
    }
    const work = mkdtempSync(join(tmpdir(), "trace-hashes-"))
    const lines: string[] = []
    let bad = 0
    try {
        for (const file of files) {
            const name = relative(ROOT, file)
            const out = join(work, basename(file, ".json"))
            const res = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "sim", "cli.ts"), file, "--out", out], { cwd: ROOT, encoding: "utf8" })
            const trace = join(out, "trace.csv")
            if (!existsSync(trace)) {
                console.error(`${name}: no trace.csv (exit ${res.status})\n${res.stderr}`)
                bad++
                continue
            }
            // Exit 1 (an expectation failed) still writes a trace: the hash is what counts here.
            const hash = createHash("sha256").update(readFileSync(trace)).digest("hex")
            const line = `${hash}  ${name}`
            lines.push(line)
            const want = expected?.get(name)
            const verdict = expected === undefined ? "" : want === undefined ? "  (new)" : want === hash ? "  same" : "  DIFFERENT"
            if (want !== undefined && want !== hash) bad++
            console.log(line + verdict + (res.status === 0 ? "" : `  (sim exit ${res.status})`))
        }
    } finally {
        rmSync(work, { recursive: true, force: true })
    }
    if (args.values.out) writeFileSync(args.values.out, lines.join("\n") + "\n")
    if (expected) for (const name of expected.keys()) if (!lines.some(l => l.endsWith("  " + name))) console.log(`${name}: not run`)
    return bad ? 1 : 0
}

process.exitCode = main(process.argv.slice(2))
