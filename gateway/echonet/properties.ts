// The property tables of the two objects this node presents: the node profile 0x0EF001 and the
// electric vehicle charger/discharger 0x027E01 (APPENDIX Detailed Requirements for ECHONET Device
// Objects, Release R, section 3.3.31 "EV charger/discharger"). One definition per EPC: its name,
// whether Get / Set / status-change announcement (INF) are offered, and the EDT length a Set must
// have. Values come from mapping.ts (the charger's status); this file has no charger knowledge.
//
// Data layouts used here (big-endian, as ECHONET Lite encodes every number):
//   u8 / u16 / u32, s32 (two's complement); property maps 0x9D-0x9F: count, then the EPCs when
//   fewer than 16, else a 16-byte bitmap (byte i bit j = EPC 0x80 + i + 16 j).

/** The Release of the class definitions implemented (0x82 of the device object, docs/echonet-gateway.md). */
export const APPENDIX_RELEASE = "R"

export const NODE_PROFILE_EOJ = 0x0ef001
export const CHARGER_EOJ = 0x027e01
/** The controller class (for our own frames' DEOJ when announcing to everyone: node profile 0x0EF001). */
export const CLASS_NODE_PROFILE = 0x0ef0
export const CLASS_CHARGER = 0x027e

export interface PropertySpec {
    epc: number
    name: string
    get: boolean
    set: boolean
    inf: boolean
    /** EDT length a Set must carry (bytes), for settable properties. */
    setBytes?: number
}

const p = (epc: number, name: string, access: string, setBytes?: number): PropertySpec => ({
    epc,
    name,
    get: access.includes("g"),
    set: access.includes("s"),
    inf: access.includes("i"),
    setBytes,
})

/** The EV charger/discharger object 0x027E01. */
export const CHARGER_PROPERTIES: PropertySpec[] = [
    p(0x80, "operation status", "gi"),
    p(0x81, "installation location", "gs", 1),
    p(0x82, "standard version information", "g"),
    p(0x83, "identification number", "g"),
    p(0x88, "fault status", "gi"),
    p(0x8a, "manufacturer code", "g"),
    p(0x9d, "status change announcement property map", "g"),
    p(0x9e, "set property map", "g"),
    p(0x9f, "get property map", "g"),
    p(0xc0, "dischargeable capacity of vehicle mounted battery 1 (Wh)", "g"),
    p(0xc2, "remaining dischargeable capacity of vehicle mounted battery 1 (Wh)", "g"),
    p(0xc4, "remaining dischargeable capacity of vehicle mounted battery 3 (%)", "g"),
    p(0xc5, "rated charge capacity (W)", "g"),
    p(0xc6, "rated discharge capacity (W)", "g"),
    p(0xc7, "vehicle connection and chargeable/dischargeable status", "gi"),
    p(0xc8, "minimum/maximum charging electric power (W)", "g"),
    p(0xc9, "minimum/maximum discharging electric power (W)", "g"),
    p(0xca, "minimum/maximum charging current (0.1 A)", "g"),
    p(0xcb, "minimum/maximum discharging current (0.1 A)", "g"),
    p(0xcc, "charger/discharger type", "g"),
    p(0xcd, "vehicle connection confirmation", "s", 1),
    p(0xce, "chargeable capacity of vehicle mounted battery (Wh)", "g"),
    p(0xcf, "remaining chargeable capacity of vehicle mounted battery (Wh)", "g"),
    p(0xd0, "used capacity of vehicle mounted battery 1 (Wh)", "g"),
    p(0xd3, "measured instantaneous charging/discharging electric power (W, + charge)", "g"),
    p(0xd6, "measured cumulative amount of discharging electric energy (0.001 kWh)", "g"),
    p(0xd8, "measured cumulative amount of charging electric energy (0.001 kWh)", "g"),
    p(0xda, "operation mode setting", "gsi", 1),
    p(0xdb, "system-interconnected type", "g"),
    p(0xdc, "charging method", "g"),
    p(0xdd, "discharging method", "g"),
    p(0xe0, "charging/discharging electric power setting (W, + charge)", "gs", 4),
    p(0xe1, "actual operation mode", "gi"),
    p(0xe2, "remaining stored electricity of vehicle mounted battery 1 (Wh)", "g"),
    p(0xe4, "remaining stored electricity of vehicle mounted battery 3 (%)", "g"),
    p(0xeb, "charging electric power setting (W)", "gs", 4),
    p(0xec, "discharging electric power setting (W)", "gs", 4),
]

/** The node profile 0x0EF001. */
export const NODE_PROFILE_PROPERTIES: PropertySpec[] = [
    p(0x80, "operation status", "gi"),
    p(0x82, "version information", "g"),
    p(0x83, "identification number", "g"),
    p(0x8a, "manufacturer code", "g"),
    p(0x9d, "status change announcement property map", "g"),
    p(0x9e, "set property map", "g"),
    p(0x9f, "get property map", "g"),
    p(0xd3, "number of self-node instances", "g"),
    p(0xd4, "number of self-node classes", "g"),
    p(0xd5, "instance list notification", "i"),
    p(0xd6, "self-node instance list S", "g"),
    p(0xd7, "self-node class list S", "g"),
]

export function specOf(table: PropertySpec[], epc: number): PropertySpec | undefined {
    return table.find(s => s.epc === epc)
}

// ---- encoders

export const u8 = (n: number) => Uint8Array.of(n & 0xff)
export const u16 = (n: number) => Uint8Array.of((n >> 8) & 0xff, n & 0xff)
export function u32(n: number): Uint8Array {
    const b = new Uint8Array(4)
    new DataView(b.buffer).setUint32(0, n >>> 0)
    return b
}
export function s32(n: number): Uint8Array {
    const b = new Uint8Array(4)
    new DataView(b.buffer).setInt32(0, n | 0)
    return b
}
export const eoj3 = (e: number) => Uint8Array.of((e >> 16) & 0xff, (e >> 8) & 0xff, e & 0xff)
export function concat(...parts: Uint8Array[]): Uint8Array {
    const out = new Uint8Array(parts.reduce((a, x) => a + x.length, 0))
    let i = 0
    for (const x of parts) {
        out.set(x, i)
        i += x.length
    }
    return out
}
export const readU32 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0)
export const readS32 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength).getInt32(0)

/** Largest value of an unsigned long property (0xFFFFFFFF..FD are overflow/underflow/no data codes). */
export const U32_MAX_VALUE = 999_999_999

/** A property map (0x9D / 0x9E / 0x9F) of the EPCs given. */
export function propertyMap(epcs: number[]): Uint8Array {
    const list = [...new Set(epcs)].sort((a, b) => a - b)
    if (list.length < 16) return Uint8Array.from([list.length, ...list])
    const bits = new Uint8Array(17)
    bits[0] = list.length
    for (const e of list) bits[1 + (e & 0x0f)] |= 1 << ((e >> 4) - 8)
    return bits
}

/** The EPCs of a property map (the inverse of propertyMap), or null when malformed. */
export function readPropertyMap(b: Uint8Array): number[] | null {
    if (b.length < 1) return null
    const n = b[0]
    if (n < 16) return b.length === n + 1 ? [...b.slice(1)] : null
    if (b.length !== 17) return null
    const out: number[] = []
    for (let i = 0; i < 16; i++) for (let j = 0; j < 8; j++) if (b[1 + i] & (1 << j)) out.push(0x80 + i + 16 * j)
    out.sort((a, c) => a - c)
    return out.length === n ? out : null
}

/** The maps of a table. */
export function mapsOf(table: PropertySpec[]): { 0x9d: Uint8Array; 0x9e: Uint8Array; 0x9f: Uint8Array } {
    return {
        0x9d: propertyMap(table.filter(s => s.inf).map(s => s.epc)),
        0x9e: propertyMap(table.filter(s => s.set).map(s => s.epc)),
        0x9f: propertyMap(table.filter(s => s.get).map(s => s.epc)),
    }
}
