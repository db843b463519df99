import { readdirSync } from "node:fs"
import { simulate } from "./sim/engine"
import { buildFirmware } from "./sim/firmware"
import { loadScenario } from "./sim/scenario/load"
import { summarize } from "./sim/trace"
for (const f of readdirSync("sim/scenarios").filter(f => f.endsWith(".json"))) {
  const s = loadScenario("sim/scenarios/" + f)
  const run = await simulate(s, { bytecode: await buildFirmware(s.config) })
  const sum = summarize(s, run.rows, run.trips, run)
  console.log(f, sum.passed ? "PASS" : "FAIL " + sum.expectations.filter(e => !e.pass).map(e => e.name).join("; "), run.warnings.filter(w => /watchdog/.test(w)).join(" | "))
}
