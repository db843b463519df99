// `npm test`: everything CI checks, in order, with one summary at the end.
//   1. devs.json against its schema (and regenerate src/config/devs.gen.ts); board files
//      (boards/*.board.json) against the strict board rules, and src/config/board-*.gen.ts
//   2. TypeScript type check of the Node side (scripts, tests, bench, and src/ against Node types)
//   3. DeviceScript compile (and type check against the DeviceScript lib) of every module under src/
//   4. vitest unit and property tests on Node
//   5. the HIL bench against the stand-in board (tests/hil, real time, about 5 min, alone)
//   6. @devicescript/test suites inside the DeviceScript WASM VM
//   7. the MQTT attack suite against the system's mosquitto, when it is installed (else: SKIPPED, said
//      in the summary; .ci/run installs it, and under CI=true a missing mosquitto is a failure)
// Every step runs even if an earlier one failed (except when devs.json is invalid, since all
// later steps depend on it). Exits 1 if anything failed. The last line reads
// "N passed, N failed" (checks count as one test each).
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ROOT } from "./lib/devs-config.js"
import { runVmTests } from "./test-vm.js"
import { runMosquittoSuite } from "./test-mosquitto.js"

let passed = 0
let failed = 0
const failures: string[] = []
const skipped: string[] = []
/** Each failed test by file and name, repeated at the end (CI logs may keep only their tail). */
const failedTests: string[] = []

/** The failed tests of a vitest JSON report, "file > name: first line of the message". */
function failedIn(report: any): string[] {
    const out: string[] = []
    for (const f of report?.testResults ?? []) {
        const file = String(f.name ?? "").replace(ROOT + "/", "")
        const failedHere = (f.assertionResults ?? []).filter((t: any) => t.status === "failed")
        for (const t of failedHere) out.push(`${file} > ${t.fullName}: ${String(t.failureMessages?.[0] ?? "").split("\n")[0].slice(0, 300)}`)
        if (!failedHere.length && f.status === "failed") out.push(`${file}: ${String(f.message ?? "failed").split("\n")[0].slice(0, 300)}`)
    }
    return out
}

function step(name: string, cmd: string[]): boolean {
    console.log(`\n=== ${name}`)
    const res = spawnSync(cmd[0], cmd.slice(1), { cwd: ROOT, stdio: "inherit" })
    return res.status === 0
}

function check(name: string, ok: boolean) {
    if (ok) passed++
    else {
        failed++
        failures.push(name)
    }
}

const node = process.execPath
const tsx = ["--import", "tsx"]
const bin = (name: string) => join(ROOT, "node_modules", ".bin", name)

const configOk = step("devs.json", [node, ...tsx, "scripts/gen-config.ts"])
check("devs.json validation", configOk)
check("board files", step("board files (check:boards)", [node, ...tsx, "scripts/check-boards.ts"]))
check("board config generation", step("board config (gen-boards)", [node, ...tsx, "scripts/gen-boards.ts"]))
if (configOk) {
    check("typecheck (Node side)", step("typecheck: Node side", [bin("tsc"), "-p", "tsconfig.typecheck.json"]))
    check("firmware compile", step("DeviceScript compile of src/", [node, ...tsx, "scripts/check-firmware.ts"]))

    console.log("\n=== vitest (unit + property tests)")
    const report = join(mkdtempSync(join(tmpdir(), "vitest-")), "report.json")
    const vit = spawnSync(bin("vitest"), ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`], {
        cwd: ROOT,
        stdio: "inherit",
    })
    let unitPassed = 0
    let unitFailed = 0
    let unitSkipped = 0
    try {
        const r = JSON.parse(readFileSync(report, "utf8"))
        unitSkipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0)
        unitPassed = r.numPassedTests
        unitFailed = r.numFailedTests + (r.numTotalTestSuites > 0 && r.success === false && r.numFailedTests === 0 ? 1 : 0)
        failedTests.push(...failedIn(r))
    } catch {
        unitFailed = 1
    }
    if (vit.status !== 0 && unitFailed === 0) unitFailed = 1
    if (unitPassed === 0) unitFailed = Math.max(unitFailed, 1) // ran no test: a failure
    console.log(`unit: ${unitPassed} passed, ${unitFailed} failed${unitSkipped ? `, ${unitSkipped} SKIPPED (see the reasons printed above)` : ""}`)
    passed += unitPassed
    failed += unitFailed
    if (unitFailed) failures.push("vitest")

    // The HIL bench against the stand-in board: real time, alone on the machine (after vitest).
    console.log("\n=== HIL bench (stand-in board, real time)")
    const hilReport = join(mkdtempSync(join(tmpdir(), "vitest-hil-")), "report.json")
    const hil = spawnSync(bin("vitest"), ["run", "--config", "vitest.hil.config.ts", "--reporter=default", "--reporter=json", `--outputFile.json=${hilReport}`], {
        cwd: ROOT,
        stdio: "inherit",
    })
    let hilPassed = 0
    let hilFailed = 0
    let hilSkipped = 0
    try {
        const r = JSON.parse(readFileSync(hilReport, "utf8"))
        hilPassed = r.numPassedTests
        hilSkipped = r.numPendingTests ?? 0
        hilFailed = r.numFailedTests + (r.success === false && r.numFailedTests === 0 ? 1 : 0)
        failedTests.push(...failedIn(r).map(t => `HIL ${t}`))
    } catch {
        hilFailed = 1
    }
    if (hil.status !== 0 && hilFailed === 0) hilFailed = 1
    if (hilPassed === 0) hilFailed = Math.max(hilFailed, 1)
    console.log(`HIL: ${hilPassed} passed, ${hilFailed} failed${hilSkipped ? `, ${hilSkipped} SKIPPED (the bench's own timing stayed past its jitter bound: a loaded machine; see SKIPPED lines above)` : ""}`)
    passed += hilPassed
    failed += hilFailed
    if (hilFailed) failures.push("HIL bench")

    console.log("\n=== DeviceScript VM tests")
    const vm = await runVmTests()
    for (const p of vm.problems) console.error(`FAIL ${p}`)
    failedTests.push(...vm.problems.map(p => `VM ${p}`))
    console.log(`VM: ${vm.passed} passed, ${vm.failed} failed`)
    passed += vm.passed
    failed += vm.failed + (vm.problems.length && vm.failed === 0 ? 1 : 0)
    if (vm.problems.length) failures.push("VM tests")

    console.log("\n=== MQTT attacks against mosquitto")
    const mq = runMosquittoSuite()
    if (mq.skipped) {
        skipped.push(`mosquitto attack suite: ${mq.skipped}`)
        console.log(`mosquitto: SKIPPED (${mq.skipped})`)
        if (process.env.CI) check("mosquitto installed (CI)", false)
    } else {
        console.log(`mosquitto: ${mq.passed} passed, ${mq.failed} failed`)
        passed += mq.passed
        failed += mq.failed
        if (mq.failed) failures.push("mosquitto attack suite")
    }
}

console.log("")
for (const t of failedTests) console.log(`FAILED TEST: ${t}`)
for (const s of skipped) console.log(`SKIPPED: ${s}`)
if (failures.length) console.log(`FAILED: ${failures.join(", ")}`)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed || failures.length ? 1 : 0)
