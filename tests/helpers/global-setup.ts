// vitest globalSetup: runs once, in the main process, before any test file's worker starts.
// @sparticuz/chromium unpacks its browser to <tmpdir>/chromium on first use and, on the next
// call, trusts any file of that name. Two test files that launch the browser at the same time on
// a fresh machine (parallel workers, as on a CI runner with more cores) would let the second
// start a half-written binary, so the unpacking happens here, once, before the workers exist.
import chromium from "@sparticuz/chromium"
import { headlessUnavailable } from "./headless"

export default async function setup() {
    if (headlessUnavailable()) return
    await chromium.executablePath()
}
