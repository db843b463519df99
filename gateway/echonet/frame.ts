// ECHONET Lite frames (ECHONET Lite Specification Part II, ch. 3, "specified message format"):
//   EHD1 0x10 | EHD2 0x81 | TID (2) | SEOJ (3) | DEOJ (3) | ESV | OPC | OPC x (EPC, PDC, EDT[PDC])
// SetGet (0x6E, 0x7E, 0x5E) carries two property lists: OPCSet + properties, then OPCGet + properties.
// The decoder never throws: it returns the frame, or why the bytes are not one, and whether a
// response is possible at all (a frame whose header and lists could not be read gets none).

/** Where ECHONET Lite nodes listen, and the group every node joins. */
export const EL_PORT = 3610
export const EL_MULTICAST = "224.0.23.0"

export const EHD1 = 0x10
export const EHD2_FORMAT1 = 0x81

/** Service codes (ESV). */
export const ESV = {
    SetI: 0x60,
    SetC: 0x61,
    Get: 0x62,
    INF_REQ: 0x63,
    SetGet: 0x6e,
    Set_Res: 0x71,
    Get_Res: 0x72,
    INF: 0x73,
    INFC: 0x74,
    INFC_Res: 0x7a,
    SetGet_Res: 0x7e,
    SetI_SNA: 0x50,
    SetC_SNA: 0x51,
    Get_SNA: 0x52,
    INF_SNA: 0x53,
    SetGet_SNA: 0x5e,
} as const

/** Every ESV the specification defines (anything else is not an ECHONET Lite service). */
export const KNOWN_ESVS: number[] = Object.values(ESV)

export interface Property {
    epc: number
    /** The property data; empty when PDC is 0. */
    edt: Uint8Array
}

export interface Frame {
    tid: number
    /** EOJ as a 24-bit number, e.g. 0x027e01. */
    seoj: number
    deoj: number
    esv: number
    props: Property[]
    /** SetGet only: the Get list (props is the Set list). */
    getProps?: Property[]
}

export type Decoded = { ok: true; frame: Frame } | { ok: false; error: string }

/** Smallest frame: header (12 bytes incl. OPC). */
export const HEADER_BYTES = 12

function hex(n: number, digits: number): string {
    return "0x" + n.toString(16).padStart(digits, "0")
}

function readProps(buf: Uint8Array, at: number, count: number): { props: Property[]; next: number } | string {
    const props: Property[] = []
    let i = at
    for (let k = 0; k < count; k++) {
        if (i + 2 > buf.length) return `truncated: property ${k + 1} of ${count} has no EPC/PDC (frame ends at byte ${buf.length})`
        const epc = buf[i]
        const pdc = buf[i + 1]
        if (i + 2 + pdc > buf.length) return `truncated: property ${hex(epc, 2)} declares PDC ${pdc} but only ${buf.length - i - 2} bytes follow`
        props.push({ epc, edt: buf.slice(i + 2, i + 2 + pdc) })
        i += 2 + pdc
    }
    return { props, next: i }
}

const eoj = (b: Uint8Array, at: number) => (b[at] << 16) | (b[at + 1] << 8) | b[at + 2]

/** Decodes one datagram. Never throws. */
export function decodeFrame(buf: Uint8Array): Decoded {
    const fail = (error: string): Decoded => ({ ok: false, error })
    if (!(buf instanceof Uint8Array)) return fail("not a byte buffer")
    if (buf.length < HEADER_BYTES) return fail(`too short: ${buf.length} bytes (a frame has at least ${HEADER_BYTES})`)
    if (buf[0] !== EHD1) return fail(`EHD1 = ${hex(buf[0], 2)}: not ECHONET Lite (0x10)`)
    if (buf[1] !== EHD2_FORMAT1) return fail(`EHD2 = ${hex(buf[1], 2)}: only the specified message format 0x81 is understood`)
    const tid = (buf[2] << 8) | buf[3]
    const esv = buf[10]
    if (KNOWN_ESVS.indexOf(esv) < 0) return fail(`ESV = ${hex(esv, 2)}: not an ECHONET Lite service`)
    const first = readProps(buf, 12, buf[11])
    if (typeof first === "string") return fail(first)
    const frame: Frame = { tid, seoj: eoj(buf, 4), deoj: eoj(buf, 7), esv, props: first.props }
    let end = first.next
    if (esv === ESV.SetGet || esv === ESV.SetGet_Res || esv === ESV.SetGet_SNA) {
        if (end >= buf.length) return fail("truncated: SetGet frame without its OPCGet")
        const second = readProps(buf, end + 1, buf[end])
        if (typeof second === "string") return fail(second)
        frame.getProps = second.props
        end = second.next
    }
    if (end !== buf.length) return fail(`${buf.length - end} bytes after the last property (OPC ${buf[11]})`)
    return { ok: true, frame }
}

function pushProps(out: number[], props: Property[]) {
    if (props.length > 255) throw new Error(`${props.length} properties: at most 255 per frame`)
    out.push(props.length)
    for (const p of props) {
        if (p.edt.length > 255) throw new Error(`EPC ${hex(p.epc, 2)}: ${p.edt.length} bytes of data, at most 255`)
        out.push(p.epc & 0xff, p.edt.length)
        for (const b of p.edt) out.push(b)
    }
}

/** Encodes a frame (throws on values that cannot be encoded: a programming error, not input). */
export function encodeFrame(f: Frame): Uint8Array {
    const out: number[] = [EHD1, EHD2_FORMAT1, (f.tid >> 8) & 0xff, f.tid & 0xff]
    for (const e of [f.seoj, f.deoj]) out.push((e >> 16) & 0xff, (e >> 8) & 0xff, e & 0xff)
    out.push(f.esv)
    pushProps(out, f.props)
    if (f.getProps) pushProps(out, f.getProps)
    return Uint8Array.from(out)
}

/** A frame for logs: `Get 0x05ff01->0x027e01 tid 7 [0xe4,0xda=43]`. */
export function describeFrame(f: Frame): string {
    const name = Object.keys(ESV).find(k => (ESV as any)[k] === f.esv) ?? hex(f.esv, 2)
    const props = f.props.map(p => hex(p.epc, 2) + (p.edt.length ? "=" + Buffer.from(p.edt).toString("hex") : "")).join(",")
    return `${name} ${hex(f.seoj, 6)}->${hex(f.deoj, 6)} tid ${f.tid} [${props}]`
}
