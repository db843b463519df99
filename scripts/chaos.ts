// npm run chaos -- [--seeds N] [--from S] [--out DIR] [--no-minimize]
// Runs N random fault schedules (sim/chaos/generate.ts) through the real firmware bytecode in the
// simulator and checks the invariants (sim/chaos/invariants.ts) on every trace. Prints a table by
// invariant; a failing seed writes a minimal scenario reproducing it (DIR/chaos-seed-N.json).
// Exit code 1 when any invariant is violated.
import { mkdirSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { parseArgs } from "node:util"
import { ROOT } from "./lib/devs-config"
import { simulate } from "../sim/engine"
import { buildFirmware } from "../sim/firmware"
import { validateScenario } from "../sim/scenario/validate"
import { chaosScenario } from "../sim/chaos/generate"
import { INVARIANTS, checkInvariants, type Violation } from "../sim/chaos/invariants"

const USAGE = "usage: npm run chaos -- [--seeds N (default 200)] [--from FIRST_SEED (default 1)] [--out DIR] [--no-minimize]"
const MAX_MINIMIZE_RUNS = 40

export async function runSeed(json: any): Promise<Violation[]> {
    const sc = validateScenario(json, json.name + ".json")
    const bytecode = await buildFirmware(sc.config)
    return checkInvariants(await simulate(sc, { bytecode }))
}

/** Greedy one-at-a-time event removal while the same invariant still fails (bounded number of runs). */
async function minimize(json: any, invariant: string): Promise<any> {
    let cur = { ...json, events: json.events.filter((e: any) => e.at_s <= CHAOS_CUT(json, invariant)) }
    let runs = 0
    if (!(await runSeed(cur)).some(v => v.invariant === invariant)) cur = json
    for (let i = cur.events.length - 1; i >= 0 && runs < MAX_MINIMIZE_RUNS; i--) {
        const trial = { ...cur, events: cur.events.filter((_: any, j: number) => j !== i) }
        runs++
        if ((await runSeed(trial)).some(v => v.invariant === invariant)) cur = trial
    }
    return { ...cur, description: `Minimised from ${json.name} (violates ${invariant}). ` + json.description }
}
let cutAt = new Map<string, number>()
const CHAOS_CUT = (json: any, inv: string) => cutAt.get(json.name + inv) ?? Infinity

async function main(argv: string[]): Promise<number> {
    let args
    try {
        args = parseArgs({ args: argv, options: { seeds: { type: "string" }, from: { type: "string" }, out: { type: "string" }, "no-minimize": { type: "boolean" }, help: { type: "boolean" } } })
    } catch (e: any) {
        console.error(`${e.message}\n${USAGE}`)
        return 2
    }
    if (args.values.help) {
        console.log(USAGE)
        return 0
    }
    const seeds = Number(args.values.seeds ?? 200)
    const from = Number(args.values.from ?? 1)
    if (!Number.isInteger(seeds) || seeds < 1 || !Number.isInteger(from) || from < 0) {
        console.error(`--seeds ${args.values.seeds} / --from ${args.values.from}: must be whole numbers (seeds >= 1)\n${USAGE}`)
        return 2
    }
    const out = resolve(args.values.out ?? join(ROOT, "out", "chaos"))
    const counts: Record<string, number> = Object.fromEntries(Object.keys(INVARIANTS).map(k => [k, 0]))
    const failing: { seed: number; v: Violation[] }[] = []
    const t0 = performance.now()
    for (let s = from; s < from + seeds; s++) {
        const json = chaosScenario(s)
        const v = await runSeed(json)
        for (const x of v) counts[x.invariant]++
        if (v.length) failing.push({ seed: s, v })
        console.log(`seed ${s}: ${v.length ? v.map(x => `${x.invariant} at ${x.tS.toFixed(2)} s (${x.detail})`).join("; ") : "ok"}`)
    }
    const wallS = (performance.now() - t0) / 1000
    console.log(`\n${seeds} seeds (${from}..${from + seeds - 1}) in ${wallS.toFixed(0)} s`)
    console.log("| invariant | seeds violating |\n|---|---:|")
    for (const [k, c] of Object.entries(counts)) console.log(`| ${k} | ${c} |`)
    console.log(`| **any** | ${failing.length} |`)
    if (failing.length && !args.values["no-minimize"]) {
        mkdirSync(out, { recursive: true })
        for (const f of failing) {
            const json = chaosScenario(f.seed)
            cutAt.set(json.name + f.v[0].invariant, f.v[0].tS + 1)
            const min = await minimize(json, f.v[0].invariant)
            const file = join(out, `chaos-seed-${f.seed}.json`)
            writeFileSync(file, JSON.stringify(min, null, 2) + "\n")
            console.log(`seed ${f.seed}: minimal scenario (${min.events.length} events) in ${file}; run it with npm run sim -- ${file}`)
        }
    }
    return failing.length ? 1 : 0
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv.slice(2))
