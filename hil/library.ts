// npm run hil:library -- (--port <serial path> | --hub tcp://HOST:PORT) [--out DIR] [--compare] [--only a,b]
// The whole scenario library (sim/scenarios/*.json) on the bench, one scenario after the other in
// real time (about 2 h 40 min), each through `npm run hil`; then a pass/fail table. For a bench,
// not for CI. Exit code 0 when every scenario passed, 1 otherwise, 2 on bad arguments.
import { spawn } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { parseArgs } from "node:util"
import { ROOT } from "../scripts/lib/devs-config"

const USAGE = "usage: npm run hil:library -- (--port <serial path> | --hub tcp://HOST:PORT) [--out DIR] [--compare] [--only name,name]"
const CODE = { 0: "PASS", 1: "FAIL", 2: "REFUSED" } as Record<number, string>

async function main(): Promise<number> {
    let v
    try {
        v = parseArgs({
            options: { port: { type: "string" }, hub: { type: "string" }, out: { type: "string" }, compare: { type: "boolean" }, only: { type: "string" }, help: { type: "boolean" } },
            strict: true,
        }).values
    } catch (err: any) {
        console.error(`${err.message}\n${USAGE}`)
        return 2
    }
    if (v.help) return console.log(USAGE), 0
    if ((v.port === undefined) === (v.hub === undefined)) {
        console.error(`give exactly one of --port or --hub\n${USAGE}`)
        return 2
    }
    const dir = join(ROOT, "sim", "scenarios")
    let names = readdirSync(dir).filter(f => f.endsWith(".json")).map(f => f.slice(0, -5)).sort()
    if (v.only) {
        const want = v.only.split(",")
        const unknown = want.filter(w => !names.includes(w))
        if (unknown.length) {
            console.error(`--only: no library scenario ${unknown.map(u => JSON.stringify(u)).join(", ")} (known: ${names.join(", ")})`)
            return 2
        }
        names = want
    }
    const out = resolve(v.out ?? join(ROOT, "out", "hil-library"))
    mkdirSync(out, { recursive: true })
    const link = v.port ? ["--port", v.port] : ["--hub", v.hub!]
    const rows: { name: string; verdict: string; failed: string; lag: string; wall: string }[] = []
    for (const name of names) {
        const runDir = join(out, name)
        const t0 = Date.now()
        console.log(`--- ${name}`)
        const code = await new Promise<number>(res => {
            const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "hil", "main.ts"), join(dir, `${name}.json`), ...link, "--out", runDir, ...(v.compare ? ["--compare"] : [])], {
                cwd: ROOT,
                stdio: "inherit",
            })
            child.on("exit", c => res(c ?? 1))
        })
        const sumFile = join(runDir, "summary.json")
        const s = existsSync(sumFile) ? JSON.parse(readFileSync(sumFile, "utf8")) : undefined
        const untrusted = s?.hil?.timing_trustworthy === false
        rows.push({
            name,
            verdict: untrusted ? "INCONCLUSIVE" : (CODE[code] ?? `exit ${code}`),
            failed: (s?.expectations ?? []).filter((e: any) => !e.pass).map((e: any) => e.name).join("; "),
            lag: s ? `${s.hil.jitter.max_lag_ms}` : "-",
            wall: `${Math.round((Date.now() - t0) / 1000)}`,
        })
    }
    const table = [
        "| scenario | verdict | max plant lag (ms) | wall (s) | failed expectations |",
        "|---|---|---:|---:|---|",
        ...rows.map(r => `| ${r.name} | ${r.verdict} | ${r.lag} | ${r.wall} | ${r.failed} |`),
    ].join("\n")
    console.log("\n" + table)
    writeFileSync(join(out, "library.md"), table + "\n")
    const passed = rows.filter(r => r.verdict === "PASS").length
    console.log(`\n${passed} passed, ${rows.length - passed} failed (table: ${join(out, "library.md")})`)
    return passed === rows.length ? 0 : 1
}

process.exitCode = await main()
