// Opens a report.html in the offline headless browser and reports what a test needs to judge it:
// console and page errors, blocked network requests, whether the vega view finished, how many
// rows each data set holds, and which panel titles the rendered SVG shows.
import { pathToFileURL } from "node:url"
import { PANELS } from "../../sim/report/data"
import { DATASETS } from "../../sim/report/spec"
import { openOffline, type Headless } from "./headless"

/** Panel titles as the SVG shows them (every plot of the page). */
export const PANEL_TITLES = [...PANELS.map(p => `${p.title} (${p.unit})`), "States (hover for the value)", "Expectation windows"]

export interface PageCheck {
    problems: string[]
    blocked: string[]
    ready: boolean
    error: string | null
    datasets: Record<string, number>
    titles: string[]
    svg: { width: number; height: number; paths: number }
}

export async function checkReportPage(h: Headless, file: string, screenshot?: `${string}.png`): Promise<PageCheck> {
    const o = await openOffline(h)
    try {
        await o.page.goto(pathToFileURL(file).href, { waitUntil: "load", timeout: 60_000 })
        await o.page.waitForFunction("window.__report && (window.__report.ready || window.__report.error)", { timeout: 60_000 })
        const got = (await o.page.evaluate(names => {
            const w = window as any
            const view = w.__reportView
            const datasets: Record<string, number> = {}
            for (const n of names as string[]) datasets[n] = view ? view.data(n).length : -1
            const svg = document.querySelector("#plots svg") as SVGSVGElement | null
            const box = svg?.getBoundingClientRect()
            return {
                ready: !!w.__report.ready,
                error: w.__report.error,
                datasets,
                titles: svg ? Array.from(svg.querySelectorAll("text")).map(t => t.textContent ?? "") : [],
                svg: { width: box?.width ?? 0, height: box?.height ?? 0, paths: svg ? svg.querySelectorAll("path").length : 0 },
            }
        }, DATASETS)) as Omit<PageCheck, "problems" | "blocked">
        if (screenshot) await o.page.screenshot({ path: screenshot, fullPage: true })
        return { ...got, problems: o.problems, blocked: o.blocked }
    } finally {
        await o.page.close()
    }
}
