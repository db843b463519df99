// report.html in a real headless Chromium (from npm: @sparticuz/chromium + puppeteer-core), with
// the network off: the page must load, finish every plot, print no console error and make no
// request that is not file: or data:. The default scenario's page is also screenshot into
// out/test-report/ for a look. The two-run form (--compare: simulator and bench) is checked with
// two simulator runs. Every library scenario's page is checked in tests/sim/closed-loop.test.ts,
// which already runs them all.
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ROOT } from "../../scripts/lib/devs-config"
import { simulate, type SimRun } from "../../sim/engine"
import { buildFirmware } from "../../sim/firmware"
import { reportHtml, runMarkers, type ReportRun } from "../../sim/report/html"
import { STATES } from "../../sim/report/data"
import { loadScenario } from "../../sim/scenario/load"
import { summarize } from "../../sim/trace"
import { headlessUnavailable, launchHeadless, type Headless } from "../helpers/headless"
import { checkReportPage, PANEL_TITLES, type PageCheck } from "../helpers/report-page"

const OUT = join(ROOT, "out", "test-report")
/** npm start's scenario (sim/cli.ts DEFAULT_SCENARIO; that module runs the CLI when imported). */
const DEFAULT_SCENARIO_FILE = join(ROOT, "sim", "scenarios", "outlet-overload-1.5.json")
let browser: Headless
let run: SimRun

const asReport = (r: SimRun, label: string): ReportRun => ({
    label,
    scenario: r.scenario,
    rows: r.rows,
    summary: summarize(r.scenario, r.rows, r.trips, r),
    markers: runMarkers(r.scenario, r),
})

function write(name: string, html: string): string {
    mkdirSync(OUT, { recursive: true })
    const file = join(OUT, name)
    writeFileSync(file, html)
    return file
}

/** What every rendered page must show: no error, no request, every plot drawn with data. */
function expectRendered(c: PageCheck) {
    expect(c.blocked, "network requests").toEqual([])
    expect(c.problems, "console / page errors").toEqual([])
    expect(c.error).toBeNull()
    expect(c.ready).toBe(true)
    for (const title of PANEL_TITLES) expect(c.titles, title).toContain(title)
    for (const d of ["overview", "power", "soc", "thermal", "temp", "states", "probe_power"]) expect(c.datasets[d], d).toBeGreaterThan(1)
    expect(c.svg.width).toBeGreaterThan(800)
    expect(c.svg.height).toBeGreaterThan(800)
}

const skip = headlessUnavailable()
if (skip) console.warn(skip)

beforeAll(async () => {
    if (skip) return
    const scenario = loadScenario(DEFAULT_SCENARIO_FILE)
    const [r, b] = await Promise.all([buildFirmware(scenario.config).then(bytecode => simulate(scenario, { bytecode })), launchHeadless()])
    run = r
    browser = b
}, 180_000)

afterAll(async () => {
    await browser?.close()
})

describe.skipIf(!!skip)("report.html in headless Chromium, offline", () => {
    it("the default scenario's page renders every plot, with its markers and expectations, no error and no request; screenshot written", async () => {
        const file = write("default-report.html", reportHtml([asReport(run, "simulator")]))
        const shot = join(OUT, "default-report.png") as `${string}.png`
        const c = await checkReportPage(browser, file, shot)
        expectRendered(c)
        // The default scenario trips outlet 1 and switches the main switch: markers and windows are drawn.
        expect(run.trips.length).toBeGreaterThan(0)
        expect(c.datasets.markers).toBe(runMarkers(run.scenario, run).length)
        expect(c.datasets.expectations).toBe(run.scenario.expectations.length)
        expect(c.datasets.windows).toBe(run.scenario.expectations.length)
        console.log(`report screenshot: ${shot}`)
    })

    it("two runs (simulator and bench, here two simulator runs) share the axes: both runs' lines, rows and expectations", async () => {
        const html = reportHtml([asReport(run, "simulator"), asReport(run, "bench")])
        const file = write("compare-report.html", html)
        const c = await checkReportPage(browser, file)
        expectRendered(c)
        const one = await checkReportPage(browser, write("single-report.html", reportHtml([asReport(run, "simulator")])))
        for (const d of ["power", "soc", "markers", "expectations", "windows", "overview"]) expect(c.datasets[d], d).toBe(2 * one.datasets[d])
        // Timeline rows are prefixed by the run: both runs' rows are on the page.
        for (const label of ["simulator", "bench"]) expect(c.titles).toContain(`${label}: ${STATES[0].label}`)
        expect(c.datasets.probe_power).toBe(one.datasets.probe_power)
    })

    it("the checks see what they guard against: a request, a console error and a page error are reported", async () => {
        const bad = write(
            "bad-page.html",
            `<html><body><img src="http://example.invalid/x.png"><script>console.error("boom"); window.__report = { ready: false, error: "x" }; undefinedFn()</script></body></html>`,
        )
        const c = await checkReportPage(browser, bad)
        expect(c.blocked).toEqual(["http://example.invalid/x.png"])
        expect(c.problems.some(p => p.includes("boom"))).toBe(true)
        expect(c.problems.some(p => p.includes("undefinedFn"))).toBe(true)
        expect(c.ready).toBe(false)
    })

    it("refuses what it cannot show: no run, three runs, two runs with the same label", () => {
        const r = asReport(run, "simulator")
        expect(() => reportHtml([])).toThrow(/one or two runs, got 0/)
        expect(() => reportHtml([r, r, r])).toThrow(/one or two runs, got 3/)
        expect(() => reportHtml([r, r])).toThrow(/different labels/)
    })
})
