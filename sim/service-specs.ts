// The project's Jacdac service specs (services/*.md), read the way the DeviceScript compiler reads
// them: the same parser (jacdac-ts' parseServiceSpecificationMarkdownToJSON, which the pinned CLI
// bundles and calls in compileServiceSpecs), the same includes (the standard services), so the
// simulator sees exactly what the firmware was compiled against (tests/unit/service-specs.test.ts
// compares the result with the build's .devicescript/services.json). Parsed from the sources, not
// from that build output, so an edited spec can never meet a stale copy.
//
// Every service class, register and event code, every status field position and every enum the
// simulator uses comes from here, looked up by the spec's names: a renamed, removed or reordered
// field changes what the simulator decodes, or fails loudly with the spec file's name.
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { loadServiceSpecifications, parseServiceSpecificationMarkdownToJSON, serviceSpecifications } from "jacdac-ts"
import { ROOT } from "../scripts/lib/devs-config"

export const SERVICES_DIR = join(ROOT, "services")

export type ServiceSpec = jdspec.ServiceSpec
export type PacketSpec = jdspec.PacketInfo

export class SpecError extends Error {
    constructor(message: string) {
        super(message)
        this.name = "SpecError"
    }
}

/** Parses every services/*.md of `dir` (README.md excepted), in file-name order like the compiler. */
export function parseServiceSpecs(dir = SERVICES_DIR): ServiceSpec[] {
    const includes: Record<string, ServiceSpec> = {}
    for (const s of serviceSpecifications()) includes[s.shortId] = s
    const out: ServiceSpec[] = []
    const problems: string[] = []
    for (const name of readdirSync(dir).filter(f => /\.md$/i.test(f) && !/README\.md$/i.test(f)).sort()) {
        const file = join(dir, name)
        const spec = parseServiceSpecificationMarkdownToJSON(readFileSync(file, "utf8"), includes, file)
        spec.catalog = false
        if (spec.errors?.length) problems.push(...spec.errors.map(e => `${file}:${e.line ?? "?"}: ${e.message}`))
        else {
            includes[spec.shortId] = spec
            out.push(spec)
        }
    }
    if (problems.length) throw new SpecError(`service specs are invalid:\n${problems.map(p => `  - ${p}`).join("\n")}`)
    return out
}

let projectSpecs: ServiceSpec[] | undefined

/** The project's specs (parsed once per process) and registered with jacdac-ts, which packs and unpacks by them. */
export function loadProjectServices(): ServiceSpec[] {
    if (!projectSpecs) {
        const specs = parseServiceSpecs()
        const r = loadServiceSpecifications(specs)
        if (r.errors?.length) throw new SpecError(`custom service specs: ${JSON.stringify(r.errors)}`)
        projectSpecs = specs
    }
    return projectSpecs
}

/** A project service by its short id (the spec file's name: "charger-control"). */
export function serviceSpec(shortId: string, specs = loadProjectServices()): ServiceSpec {
    const s = specs.find(x => x.shortId === shortId)
    if (!s) throw new SpecError(`no service "${shortId}" in services/ (have: ${specs.map(x => x.shortId).join(", ")})`)
    return s
}

/** A packet of `kind` ("rw", "ro", "command", "event", ...) named `name` (snake_case, as in the spec). */
export function packetSpec(service: ServiceSpec, kind: "rw" | "ro" | "const" | "command" | "event", name: string): PacketSpec {
    const p = service.packets.find(x => x.name === name && x.kind === kind)
    if (!p) {
        const have = service.packets.filter(x => x.kind === kind && !x.derived).map(x => x.name)
        throw new SpecError(`services/${service.shortId}.md: no ${kind} "${name}" (has: ${have.join(", ")})`)
    }
    return p
}

/** Outlet1RelayWelded -> outlet1_relay_welded: the snake_case names the core uses for spec enum members. */
export function snakeCase(name: string): string {
    return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase()
}

/** An enum of the spec as a code -> snake_case name table (holes stay undefined). */
export function enumNames(service: ServiceSpec, enumName: string): string[] {
    const e = service.enums[enumName]
    if (!e) throw new SpecError(`services/${service.shortId}.md: no enum ${enumName} (has: ${Object.keys(service.enums).join(", ")})`)
    const out: string[] = []
    for (const [member, code] of Object.entries(e.members)) out[code] = snakeCase(member)
    return out
}

/**
 * Checks that a packet's fields are exactly `names`, in this order: for the simulator's servers,
 * which fill registers positionally. Throws naming the spec file and both lists.
 */
export function expectFields(service: ServiceSpec, packet: PacketSpec, names: readonly string[]): void {
    const have = packet.fields.map(f => f.name)
    if (have.join(",") !== names.join(","))
        throw new SpecError(
            `services/${service.shortId}.md ${packet.name}: fields are ${have.join(", ")}; the simulator fills ${names.join(", ")} (update sim/servers.ts)`,
        )
}

/** A decoded report: each field by its spec name, enum fields as their snake_case member name (unknownEnum(code) for an unknown code). */
export type Decoded = Record<string, number | boolean | string | Decoded[]>

/**
 * Decodes a packet's unpacked values (jacdac-ts `unpackedValue`) by the spec's field names.
 * Fields after a `startRepeats` field form a list of records under the key "repeats".
 */
export function fieldDecoder(
    service: ServiceSpec,
    packet: PacketSpec,
    unknownEnum: (code: number) => string = () => "",
): (values: unknown[]) => Decoded {
    const enums = new Map<string, string[]>()
    for (const f of packet.fields) if (service.enums[f.type]) enums.set(f.name, enumNames(service, f.type))
    const start = packet.fields.findIndex(f => f.startRepeats)
    const head = start < 0 ? packet.fields : packet.fields.slice(0, start)
    const tail = start < 0 ? [] : packet.fields.slice(start)
    const one = (fields: jdspec.PacketMember[], values: unknown[], out: Decoded) => {
        fields.forEach((f, i) => {
            const v = values[i] as number | boolean | string
            const names = enums.get(f.name)
            out[f.name] = names ? (names[v as number] ?? unknownEnum(v as number)) : v
        })
        return out
    }
    return values => {
        const out = one(head, values, {})
        if (tail.length) {
            // jacdac-ts unpacks the repeated part as one trailing array of records.
            const rest = values[head.length]
            const records: unknown[][] = Array.isArray(rest) && Array.isArray(rest[0]) ? (rest as unknown[][]) : chunk(values.slice(head.length), tail.length)
            out.repeats = records.map(r => one(tail, r, {}))
        }
        return out
    }
}

function chunk(values: unknown[], n: number): unknown[][] {
    const out: unknown[][] = []
    for (let i = 0; i + n <= values.length; i += n) out.push(values.slice(i, i + n))
    return out
}
