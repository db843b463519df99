// `--until S`: a library scenario cut short, for CI runs in real time. The scenario stays the
// library's file; only its run ends at S: events after S are dropped, and expectations whose
// window (to_s / by_s, or a trip window's end) reaches past S are not checked and are listed as
// skipped, never judged on a shortened window.
import type { Expectation, Scenario } from "../sim/scenario/types"

export function expectationEndS(e: Expectation): number {
    if (e.kind === "reaches") return e.byS
    return e.toS
}

export function cutScenario(scenario: Scenario, untilS: number): { scenario: Scenario; skipped: Expectation[] } {
    if (!(untilS > 0) || untilS >= scenario.durationS) return { scenario, skipped: [] }
    const kept = scenario.expectations.filter(e => expectationEndS(e) <= untilS + 1e-9)
    const skipped = scenario.expectations.filter(e => !kept.includes(e))
    return {
        scenario: { ...scenario, durationS: untilS, events: scenario.events.filter(ev => ev.atS <= untilS), expectations: kept },
        skipped,
    }
}
