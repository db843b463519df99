// A headless Chromium for page tests, from npm (@sparticuz/chromium ships it inside its package;
// puppeteer-core drives it). Kept off the network: a fresh profile, background networking and
// updates off, every host name resolving to nothing, and the caller's page blocks every request
// that is not file: or data: (see openOffline) and records it, so a test can fail on it.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import chromium from "@sparticuz/chromium"
import puppeteer, { type Browser, type Page } from "puppeteer-core"

/** Flags that keep Chromium from reaching out on its own (updates, metrics, safe browsing, DNS). */
export const OFFLINE_FLAGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-sync",
    "--disable-client-side-phishing-detection",
    "--metrics-recording-only",
    "--no-first-run",
    "--no-pings",
    "--host-resolver-rules=MAP * ~NOTFOUND",
]

/**
 * Why the npm Chromium cannot run here ("" when it can): @sparticuz/chromium ships a Linux x64
 * build only. CI (Linux x64) always runs the browser tests; elsewhere they are skipped with this
 * reason printed, never silently.
 */
export function headlessUnavailable(): string {
    if (process.platform !== "linux" || process.arch !== "x64")
        return `browser tests skipped: @sparticuz/chromium ships a Linux x64 Chromium only (this is ${process.platform}/${process.arch})`
    return ""
}

export interface Headless {
    browser: Browser
    close(): Promise<void>
}

export async function launchHeadless(): Promise<Headless> {
    const profile = mkdtempSync(join(tmpdir(), "chromium-profile-"))
    const browser = await puppeteer.launch({
        executablePath: await chromium.executablePath(),
        args: [...chromium.args, ...OFFLINE_FLAGS],
        headless: true,
        userDataDir: profile,
        defaultViewport: { width: 1280, height: 900 },
    })
    return {
        browser,
        async close() {
            await browser.close()
            rmSync(profile, { recursive: true, force: true })
        },
    }
}

export interface OfflinePage {
    page: Page
    /** Console errors/warnings and page errors, in order. */
    problems: string[]
    /** Requests that were not file: or data: (all blocked). */
    blocked: string[]
}

/** A new page that records console errors, page errors and blocks (and records) any network request. */
export async function openOffline(h: Headless): Promise<OfflinePage> {
    const page = await h.browser.newPage()
    const problems: string[] = []
    const blocked: string[] = []
    page.on("console", m => {
        if (m.type() === "error" || m.type() === "warn") problems.push(`console.${m.type()}: ${m.text()}`)
    })
    page.on("pageerror", e => problems.push(`page error: ${(e as Error).message ?? e}`))
    page.on("requestfailed", r => {
        if (!blocked.includes(r.url())) problems.push(`request failed: ${r.url()}`)
    })
    await page.setRequestInterception(true)
    page.on("request", r => {
        const u = r.url()
        if (u.startsWith("file:") || u.startsWith("data:")) void r.continue()
        else {
            blocked.push(u)
            void r.abort("blockedbyclient")
        }
    })
    return { page, problems, blocked }
}
