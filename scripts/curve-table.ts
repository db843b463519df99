// `npm run curve`: the trip curve as the firmware implements it, measured by driving the
// protection core with constant loads from cold (one outlet, 20 ms ticks), next to the
// design formula. Prints a Markdown table (the trip-curve table of docs/outlet-protection.md is made with it).
import { DEVS } from "../src/config/devs.gen"
import { BUDGET_W, settledLoop } from "../tests/helpers/outlet-harness"

const c = DEVS.tripCurve
function designS(r: number): string {
    if (r <= 1) return "never"
    if (r >= c.instantRatio) return "first tick"
    if (r > c.inrushRatio) return `${c.inrushMaxMs / 1000} s`
    if (r <= c.sustainedRatio) return `${c.sustainedTripMs / 1000} s`
    return `${(c.inverseConstantS / (r * r - 1)).toFixed(2)} s`
}

const ratios = [0.9, 1.0, 1.05, 1.1, 1.15, 1.2, 1.3, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0]
console.log("| load ratio r | load on 1,500 W | design trip time | measured (core, 20 ms ticks) | reason |")
console.log("|---:|---:|---:|---:|---|")
for (const r of ratios) {
    const loop = settledLoop()
    loop.demandW[0] = r * BUDGET_W
    const ms = loop.msUntilCut(1, 3_600_000)
    const measured = ms < 0 ? "no trip in 1 h" : `${(ms / 1000).toFixed(2)} s`
    console.log(`| ${r.toFixed(2)} | ${Math.round(r * BUDGET_W)} W | ${designS(r)} | ${measured} | ${ms < 0 ? "-" : loop.reason(1)} |`)
}
