// Runs every tests/vm/*.vm.ts suite inside the DeviceScript WASM VM with
// `--test --test-self-exit` (without it a failing suite still reports OK) and checks both the
// exit code and the suite's own summary line. Prints "VM: N passed, N failed".
// Exits 1 when a suite fails, does not compile, or runs no test.
import { readdirSync } from "node:fs"
import { join } from "node:path"
import { ROOT } from "./lib/devs-config.js"
import { runDevs } from "./lib/devs-cli.js"

export interface VmResult {
    passed: number
    failed: number
    problems: string[]
}

const TEST_TIMEOUT_MS = 300_000

export async function runVmTests(verbose = false): Promise<VmResult> {
    const dir = join(ROOT, "tests", "vm")
    const suites = readdirSync(dir).filter(f => f.endsWith(".vm.ts")).sort()
    const result: VmResult = { passed: 0, failed: 0, problems: [] }
    if (suites.length === 0) result.problems.push("no VM suites found in tests/vm")
    for (const file of suites) {
        const rel = `tests/vm/${file}`
        const res = await runDevs(["run", rel, "--test", "--test-self-exit", "-T", String(TEST_TIMEOUT_MS)], {
            echo: verbose,
        })
        const m = /tests: (\d+), pass: (\d+), error: (\d+)/.exec(res.output)
        const total = m ? Number(m[1]) : 0
        const pass = m ? Number(m[2]) : 0
        const err = m ? Number(m[3]) : 0
        // Which tests failed: a test name line followed by an exception.
        const failedNames = [...res.output.matchAll(/WASM> {2}(.+)\n(?:WASM> )?Exception: ([^\n]*)\n(?:WASM> )? message: ([^\n]*)/g)].map(
            x => `${x[1]}: ${x[3]}`,
        )
        if (res.code !== 0 || !m || err > 0 || total === 0 || pass !== total) {
            const why = !m ? "did not run (compile error or crash)" : total === 0 ? "ran no test" : `${err} of ${total} failed`
            result.problems.push(`${rel}: ${why} (exit code ${res.code})${failedNames.length ? "\n    " + failedNames.join("\n    ") : ""}`)
            if (!verbose) process.stdout.write(res.output)
            result.failed += Math.max(err, m ? total - pass : 1)
            result.passed += pass
        } else {
            result.passed += pass
        }
        console.log(`VM ${rel}: ${pass}/${total} passed`)
    }
    return result
}

if (import.meta.url === `file://${process.argv[1]}`) {
    const r = await runVmTests(process.argv.includes("--verbose"))
    for (const p of r.problems) console.error(`FAIL ${p}`)
    console.log(`VM: ${r.passed} passed, ${r.failed} failed`)
    process.exit(r.problems.length ? 1 : 0)
}
