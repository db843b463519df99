// Argument and input checks of `npm run flash`, separated from the steps so that every problem is
// reported at once, before anything is built or written. Node side only.
import { spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, readFileSync, statSync } from "node:fs"
import { homedir } from "node:os"
import { delimiter, join } from "node:path"
import { parseArgs } from "node:util"
import { ROOT } from "./devs-config.js"
import { boardIds } from "./firmware-build.js"

export const RUNTIME_JSON = join(ROOT, "boards", "runtime.json")

export interface RuntimeArch {
    file: string
    offset: string
    chip: string
    url: string
    sha256: string | null
}

export interface Runtime {
    version: string
    archs: Record<string, RuntimeArch>
}

export function loadRuntime(): Runtime {
    return JSON.parse(readFileSync(RUNTIME_JSON, "utf8"))
}

/** Where runtime images are cached: $DEVS_RUNTIME_DIR, else ~/.cache/devicescript-runtime/v<version>. */
export function runtimeCacheDir(version: string, env: NodeJS.ProcessEnv = process.env): string {
    if (env.DEVS_RUNTIME_DIR) return env.DEVS_RUNTIME_DIR
    const base = env.XDG_CACHE_HOME || join(homedir(), ".cache")
    return join(base, "devicescript-runtime", `v${version}`)
}

export interface FlashPlan {
    board: string
    archId: string
    port: string
    image: string
    imageSha256: string
    /** false when boards/runtime.json has no hash for the arch yet. */
    imagePinned: boolean
    runtime: RuntimeArch
    /** argv prefix that runs esptool (e.g. ["esptool.py"] or ["python3", "-m", "esptool"]). */
    esptool: string[]
    baud: number
    dryRun: boolean
    /** Flash the board's HIL image (hil/hil-image.ts) instead of the product image. */
    hil: boolean
}

export const USAGE =
    "usage: npm run flash -- --board <id> --port <serial device> [--image <runtime .bin>] [--esptool <cmd>] [--baud <n>] [--hil] [--dry-run]"

/** An ESP image (bootloader at its offset) starts with the magic byte 0xE9 (ESP-IDF image format). */
const ESP_IMAGE_MAGIC = 0xe9
export const DEFAULT_BAUD = 921600

/** Finds esptool: the given command, else esptool.py / esptool on PATH, else `python3 -m esptool`. */
export function findEsptool(given: string | undefined, env: NodeJS.ProcessEnv = process.env): { cmd?: string[]; tried: string[] } {
    const candidates: string[][] = []
    if (given) candidates.push(given.split(" ").filter(s => s))
    else {
        for (const dir of (env.PATH ?? "").split(delimiter))
            for (const name of ["esptool.py", "esptool"]) if (dir && existsSync(join(dir, name))) candidates.push([join(dir, name)])
        candidates.push(["python3", "-m", "esptool"])
    }
    const tried: string[] = []
    for (const c of candidates) {
        tried.push(c.join(" "))
        const r = spawnSync(c[0], [...c.slice(1), "version"], { encoding: "utf8", env, timeout: 20000 })
        if (r.status === 0 && /esptool/i.test(r.stdout + r.stderr)) return { cmd: c, tried }
    }
    return { tried }
}

/** Parses and checks everything; returns the plan or every problem found. */
export function checkFlashInputs(argv: string[], env: NodeJS.ProcessEnv = process.env): { plan?: FlashPlan; problems: string[] } {
    const problems: string[] = []
    let values: Record<string, any>
    try {
        values = parseArgs({
            args: argv,
            options: {
                board: { type: "string" },
                port: { type: "string" },
                image: { type: "string" },
                esptool: { type: "string" },
                baud: { type: "string" },
                "dry-run": { type: "boolean" },
                hil: { type: "boolean" },
            },
            strict: true,
            allowPositionals: false,
        }).values
    } catch (e: any) {
        return { problems: [`${e.message}`, USAGE] }
    }
    const runtime = loadRuntime()
    const boards = boardIds()
    let archId: string | undefined
    if (!values.board) problems.push(`--board is required (known boards: ${boards.join(", ")})`)
    else if (!boards.includes(values.board))
        problems.push(`--board ${values.board}: unknown board (known: ${boards.join(", ")}; a board needs boards/<id>.board.json and src/boards/<id>.ts)`)
    else {
        archId = JSON.parse(readFileSync(join(ROOT, "boards", `${values.board}.board.json`), "utf8")).archId
        if (!runtime.archs[archId]) problems.push(`boards/${values.board}.board.json: archId ${archId} has no runtime image in boards/runtime.json`)
    }
    if (!values.port) problems.push("--port is required (the board's serial device, e.g. /dev/ttyUSB0 or /dev/ttyACM0)")
    else if (!existsSync(values.port)) problems.push(`--port ${values.port}: no such device (is the board plugged in? ls /dev/ttyUSB* /dev/ttyACM*)`)

    let baud = DEFAULT_BAUD
    if (values.baud !== undefined) {
        baud = Number(values.baud)
        if (!(Number.isInteger(baud) && baud >= 9600 && baud <= 3000000)) problems.push(`--baud ${values.baud}: must be an integer baud rate 9600..3000000`)
    }

    const rt = archId ? runtime.archs[archId] : undefined
    let image = ""
    let imageSha256 = ""
    if (rt) {
        image = values.image ?? join(runtimeCacheDir(runtime.version, env), rt.file)
        const from = values.image ? `--image ${values.image}` : `cached runtime image ${image}`
        if (!existsSync(image) || !statSync(image).isFile())
            problems.push(
                `${from}: not found. Download the DeviceScript ${runtime.version} runtime for ${archId} once (${rt.url}) ` +
                    `into ${runtimeCacheDir(runtime.version, env)}/ or pass --image <file>; nothing is downloaded during flashing`,
            )
        else {
            const bytes = readFileSync(image)
            imageSha256 = createHash("sha256").update(bytes).digest("hex")
            if (bytes[0] !== ESP_IMAGE_MAGIC)
                problems.push(`${from}: not an ESP32 firmware image (first byte 0x${(bytes[0] ?? 0).toString(16)}, expected 0xe9)`)
            else if (rt.sha256 && rt.sha256 !== imageSha256)
                problems.push(`${from}: sha256 ${imageSha256} differs from the pinned ${rt.sha256} (boards/runtime.json archs.${archId}.sha256)`)
        }
    }

    const tool = findEsptool(values.esptool, env)
    if (!tool.cmd)
        problems.push(
            `esptool not found (tried: ${tool.tried.join("; ")}). Install the pinned one: python3 -m pip install esptool==4.8.1, or pass --esptool <command>`,
        )

    if (problems.length) return { problems }
    return {
        problems,
        plan: {
            board: values.board,
            archId,
            port: values.port,
            image,
            imageSha256,
            imagePinned: !!rt.sha256,
            runtime: rt,
            esptool: tool.cmd,
            baud,
            dryRun: !!values["dry-run"],
            hil: !!values.hil,
        },
    }
}
