// The ECHONET Lite node: the node profile 0x0EF001 and the charger object 0x027E01. It answers
// requests (Get, SetC, SetI, INF_REQ; SetGet is refused with SetGet_SNA), announces the instance
// list, and notifies the status-change properties when they change. Transport-agnostic: bytes in,
// frames out through `send`; the charger is reached only through `command` (the firmware's
// validator decides every Set). Nothing here throws on input: a frame that cannot be read is
// dropped (the specification prescribes no response to it), with a line in the log.
import { decodeFrame, describeFrame, encodeFrame, ESV, type Frame, type Property } from "./frame"
import { identificationNumber, initialHeld, planSet, readValue, type ChargerView, type GatewayIdentity, type HeldSettings } from "./mapping"
import {
    CHARGER_EOJ,
    CHARGER_PROPERTIES,
    concat,
    eoj3,
    mapsOf,
    NODE_PROFILE_EOJ,
    NODE_PROFILE_PROPERTIES,
    specOf,
    u16,
    u8,
    type PropertySpec,
} from "./properties"

export interface Peer {
    address: string
    port: number
}

export interface CommandResult {
    ok: boolean
    /** Why it was refused (the firmware's reason, or the gateway's). */
    why: string
}

export interface NodeDeps {
    view(): ChargerView
    /** A unicast datagram to `to`, or a multicast one (224.0.23.0:3610) when `to` is null. */
    send(bytes: Uint8Array, to: Peer | null): void
    /** Sends one command to the charger's `<prefix>/cmd` and resolves with the firmware's verdict. */
    command(cmd: any): Promise<CommandResult>
    log(line: string): void
}

/** ECHONET Lite version 1.13, specified message format (node profile 0x82). */
const NODE_VERSION = Uint8Array.of(0x01, 0x0d, 0x01, 0x00)
const INSTANCES = [CHARGER_EOJ]

interface Obj {
    eoj: number
    table: PropertySpec[]
    value(epc: number): Uint8Array | null
}

export class EchonetNode {
    held: HeldSettings = initialHeld()
    private tid = 0
    private setChain: Promise<void> = Promise.resolve()
    private announced = new Map<number, string | null>()
    private readonly objects: Obj[]

    constructor(
        private readonly id: GatewayIdentity,
        private readonly deps: NodeDeps,
    ) {
        const profileMaps = mapsOf(NODE_PROFILE_PROPERTIES)
        const instanceList = concat(u8(INSTANCES.length), ...INSTANCES.map(eoj3))
        const profile = (epc: number): Uint8Array | null => {
            switch (epc) {
                case 0x80:
                    return u8(0x30)
                case 0x82:
                    return NODE_VERSION
                case 0x83:
                    return identificationNumber(id)
                case 0x8a:
                    return eoj3(id.manufacturerCode)
                case 0x9d:
                case 0x9e:
                case 0x9f:
                    return profileMaps[epc]
                case 0xd3:
                    return Uint8Array.of(0, 0, INSTANCES.length)
                case 0xd4: // classes, the node profile included
                    return u16(new Set(INSTANCES.map(e => e >> 8)).size + 1)
                case 0xd5:
                case 0xd6:
                    return instanceList
                case 0xd7: {
                    const classes = [...new Set(INSTANCES.map(e => e >> 8))]
                    return concat(u8(classes.length), ...classes.map(c => u16(c)))
                }
                default:
                    return null
            }
        }
        this.objects = [
            { eoj: NODE_PROFILE_EOJ, table: NODE_PROFILE_PROPERTIES, value: profile },
            { eoj: CHARGER_EOJ, table: CHARGER_PROPERTIES, value: epc => readValue(epc, deps.view(), this.held, id) },
        ]
    }

    private nextTid(): number {
        this.tid = (this.tid + 1) & 0xffff
        return this.tid
    }

    private emit(f: Frame, to: Peer | null) {
        try {
            this.deps.send(encodeFrame(f), to)
        } catch (e) {
            this.deps.log(`cannot send ${describeFrame(f)}: ${(e as Error).message}`)
        }
    }

    /** The start-up announcement: INF of the instance list (0xD5) to everyone. */
    announce() {
        const np = this.objects[0]
        this.emit({ tid: this.nextTid(), seoj: NODE_PROFILE_EOJ, deoj: NODE_PROFILE_EOJ, esv: ESV.INF, props: [{ epc: 0xd5, edt: np.value(0xd5)! }] }, null)
        this.remember()
    }

    private remember(): Property[] {
        const changed: Property[] = []
        const obj = this.objects[1]
        for (const s of obj.table) {
            if (!s.inf) continue
            const v = obj.value(s.epc)
            const key = v ? Buffer.from(v).toString("hex") : null
            if (this.announced.has(s.epc) && this.announced.get(s.epc) !== key && v) changed.push({ epc: s.epc, edt: v })
            this.announced.set(s.epc, key)
        }
        return changed
    }

    /** Call when the charger's status or online flag changed: notifies what changed (one INF). */
    statusChanged() {
        const changed = this.remember()
        if (changed.length) this.emit({ tid: this.nextTid(), seoj: CHARGER_EOJ, deoj: NODE_PROFILE_EOJ, esv: ESV.INF, props: changed }, null)
    }

    /**
     * One received datagram. Resolves when it has been answered (a Set waits for the firmware),
     * with whether it was a request to this node (a controller is there).
     */
    async receive(bytes: Uint8Array, from: Peer): Promise<boolean> {
        try {
            return await this.handle(bytes, from)
        } catch (e) {
            this.deps.log(`error while handling a frame from ${from.address}: ${(e as Error).message}`)
            return false
        }
    }

    private targets(deoj: number): Obj[] {
        return this.objects.filter(o => o.eoj === deoj || ((deoj & 0xff) === 0 && o.eoj >> 8 === deoj >> 8))
    }

    private async handle(bytes: Uint8Array, from: Peer): Promise<boolean> {
        const d = decodeFrame(bytes)
        if (d.ok === false) {
            this.deps.log(`dropped a frame from ${from.address}:${from.port}: ${(d as { error: string }).error}`)
            return false
        }
        const f = d.frame
        const req = [ESV.Get, ESV.SetC, ESV.SetI, ESV.INF_REQ, ESV.SetGet] as number[]
        if (!req.includes(f.esv)) return false // responses and notifications: this node is no controller
        const objs = this.targets(f.deoj)
        if (objs.length === 0) return false // not addressed to an object of this node
        if (f.props.length === 0 && f.esv !== ESV.SetGet) {
            this.deps.log(`dropped ${describeFrame(f)} from ${from.address}: no properties (OPC 0)`)
            return false
        }
        for (const o of objs) {
            switch (f.esv) {
                case ESV.Get:
                case ESV.INF_REQ:
                    this.answerGet(f, o, from)
                    break
                case ESV.SetC:
                case ESV.SetI:
                    await this.serialSet(f, o, from)
                    break
                case ESV.SetGet:
                    this.emit({ tid: f.tid, seoj: o.eoj, deoj: f.seoj, esv: ESV.SetGet_SNA, props: f.props, getProps: (f.getProps ?? []).map(p => ({ epc: p.epc, edt: new Uint8Array(0) })) }, from)
                    break
            }
        }
        return true
    }

    private answerGet(f: Frame, o: Obj, from: Peer) {
        let failed = false
        const props = f.props.map(p => {
            const s = specOf(o.table, p.epc)
            const allowed = s && (f.esv === ESV.Get ? s.get : s.get || s.inf)
            const v = allowed ? o.value(p.epc) : null
            if (!v) failed = true
            return { epc: p.epc, edt: v ?? new Uint8Array(0) }
        })
        if (f.esv === ESV.Get) this.emit({ tid: f.tid, seoj: o.eoj, deoj: f.seoj, esv: failed ? ESV.Get_SNA : ESV.Get_Res, props }, from)
        else if (failed) this.emit({ tid: f.tid, seoj: o.eoj, deoj: f.seoj, esv: ESV.INF_SNA, props }, from)
        else this.emit({ tid: f.tid, seoj: o.eoj, deoj: NODE_PROFILE_EOJ, esv: ESV.INF, props }, null)
    }

    /** Sets run one after the other: each sees the held settings the previous one left. */
    private serialSet(f: Frame, o: Obj, from: Peer): Promise<void> {
        const run = this.setChain.then(() => this.applySet(f, o, from))
        this.setChain = run.catch(() => {})
        return run
    }

    private async applySet(f: Frame, o: Obj, from: Peer) {
        const refuse = (why: string) => {
            this.deps.log(`refused ${describeFrame(f)} from ${from.address}: ${why}`)
            this.emit({ tid: f.tid, seoj: o.eoj, deoj: f.seoj, esv: f.esv === ESV.SetC ? ESV.SetC_SNA : ESV.SetI_SNA, props: f.props }, from)
        }
        if (o.eoj !== CHARGER_EOJ) return refuse("the node profile has no settable property")
        const plan = planSet(f.props, this.deps.view(), this.held)
        if (plan.ok === false) return refuse((plan as { why: string }).why)
        if (plan.command) {
            const r = await this.deps.command(plan.command)
            if (!r.ok) return refuse(`the charger refused ${JSON.stringify(plan.command)}: ${r.why}`)
        }
        this.held = plan.held
        if (f.esv === ESV.SetC) this.emit({ tid: f.tid, seoj: o.eoj, deoj: f.seoj, esv: ESV.Set_Res, props: f.props.map(p => ({ epc: p.epc, edt: new Uint8Array(0) })) }, from)
        this.statusChanged()
    }
}
