// The MQTT link to a home energy manager: shell code only. Settings (core/hems/mqtt-settings.ts),
// one connection over the @devicescript/net socket (TCP or TLS) with a backoff (core/common/
// backoff.ts), MQTT framed and parsed in the core (hems/mqtt-codec.ts, mqtt-decoder.ts, decisions in
// mqtt-session.ts), status / telemetry / events published (hems/messages.ts, link-messages.ts,
// Controller.statusJson), every command payload to Controller.command, the one command path.
// Not @devicescript/net's MQTTClient: it buffered whole packets (5,000 bytes: PANIC 60004) and
// mis-framed 16 KB+ ones. Docs: mqtt.md, mqtt-robustness.md. For Home Assistant discovery
// (hems-ha.ts): subscribe(topic, handler), onConnected(fn). A handler's exception panics the VM.
import * as ds from "@devicescript/core"
import { connect, Socket } from "@devicescript/net"
import { deleteSetting, readSetting } from "@devicescript/settings"
import { DEVS } from "./config/devs.gen"
import { Controller } from "./core/controller"
import { Backoff } from "./core/common/backoff"
import { BoundedQueue } from "./core/common/bounded-queue"
import { MQTT_SETTING_KEYS, MqttSettings, MqttTopics, mqttTopics, redact, resolveMqttSettings, secretsOf } from "./core/hems/mqtt-settings"
import { commandEventDoc, protectionEventDoc, settingRejectedDoc, telemetryDoc, TelemetrySchedule, v2hEventDoc } from "./core/hems/messages"
import { ProtectionEvent } from "./core/outlets/io"
import { V2hEvent } from "./core/v2h/io"
import { encodeAck, encodeConnect, encodePingreq, encodePublish, encodePublishHeader, encodeSubscribe, DOC_CHUNK_CHARS, jsonChunks } from "./core/hems/mqtt-codec"
import { MqttDecoder, MqttIn } from "./core/hems/mqtt-decoder"
import { MqttAction, MqttSession } from "./core/hems/mqtt-session"
import { RateLimit } from "./core/hems/rate-limit"
import { HaAnnouncer } from "./hems-ha"
import { linkDoc, oversizeDoc, rateLimitedDoc } from "./core/hems/link-messages"
import { MqttIntake } from "./hems-mqtt-intake"

const M = DEVS.mqtt
const H = DEVS.hems
/** The link's loop: the longest wait for data before it publishes, pings and checks the keep-alive. */
const LOOP_MS = DEVS.ticks.supervisoryMs
/**
 * Work the link's loop does before it lets the rest of the firmware run (units: a packet 4, a
 * command that passes the rate limit 40, a publish round a whole slice; roughly their cost in VM
 * opcodes). It then sleeps 1 ms, which ends the VM's scheduler pass: within one pass the VM only
 * runs fibers that were due when it began (runtime fibers.c), so a protection tick due meanwhile
 * waits for the pass to end.
 */
const SLICE_UNITS = 96
const UNITS_PACKET = 4
const UNITS_COMMAND = 40

export type TopicHandler = (payload: Buffer, retain: boolean) => void

export class HemsMqtt {
    private settings: MqttSettings = null
    private topics: MqttTopics = null
    private secrets: string[] = []
    private sock: Socket = null
    private decoder: MqttDecoder = null
    private readonly session = new MqttSession({ keepAliveS: M.keepAliveS, connectTimeoutMs: M.connectTimeoutMs })
    private readonly limiter = new RateLimit(H.commandsPerS, H.commandBurst)
    private readonly backoff = new Backoff(M)
    private readonly events = new BoundedQueue<string>(M.eventQueueMax)
    private readonly schedule = new TelemetrySchedule(M.telemetryPeriodMs)
    private readonly extraTopics: string[] = []
    private readonly extraHandlers: TopicHandler[] = []
    private readonly connectedHooks: (() => void)[] = []
    /** Home Assistant discovery (null when the mqttHa setting switches it off). */
    private ha: HaAnnouncer = null
    private statusDirty = true
    private loopCommand = -1 // index in Controller.loops (common/loop-health.ts)
    /** Received packets, decoded as they arrive (hems-mqtt-intake.ts). */
    private intake: MqttIntake = null
    /** false once the settings say there is no broker. */
    private enabled = true
    connected = false

    constructor(private readonly controller: Controller) {}

    /** Adds an exact topic to subscribe to and its handler (call before the link starts). */
    subscribe(topic: string, handler: TopicHandler) {
        this.extraTopics.push(topic)
        this.extraHandlers.push(handler)
    }

    /** Runs after every accepted CONNACK (e.g. to restart the discovery announcement). */
    onConnected(fn: () => void) {
        this.connectedHooks.push(fn)
    }

    /** Queues an outlet-protection event for `<prefix>/event`. */
    protectionEvent(ev: ProtectionEvent) {
        this.queueEvent(protectionEventDoc(ev))
    }

    /** Queues a V2H supervisor event for `<prefix>/event`. */
    v2hEvent(ev: V2hEvent) {
        this.queueEvent(v2hEventDoc(ev))
    }

    private queueEvent(doc: any) {
        if (!this.enabled) return
        this.events.push(JSON.stringify(doc))
        this.statusDirty = true
    }

    private log(msg: string) {
        console.log("mqtt: " + redact(msg, this.secrets))
    }

    /** Reads and validates the settings; a bad stored value is reported and deleted (its default applies). */
    private async loadSettings(): Promise<MqttSettings> {
        const stored: any = {}
        for (const key of MQTT_SETTING_KEYS) stored[key] = await readSetting(key)
        const r = resolveMqttSettings(stored, M, ds.deviceIdentifier("self"))
        this.secrets = secretsOf(r.settings)
        for (const p of r.problems) {
            this.log(p)
            // Also told to the HEMS once connected (the messages describe private values by type and length only).
            this.queueEvent(settingRejectedDoc(p, ds.millis()))
        }
        for (const key of r.badKeys) await deleteSetting(key)
        return r.settings
    }

    /** Starts the link's loop (settings, then the connection), off the caller's stack. */
    start() {
        const link = this
        setTimeout(async () => {
            try {
                await link.run()
            } catch (e) {
                console.log("mqtt: link stopped: " + ((e as Error).message || "error"))
            }
        }, 0)
    }

    async run() {
        const s = await this.loadSettings()
        if (!s.host) {
            this.enabled = false
            while (this.events.shift() !== undefined) {}
            this.log("no broker configured (setting mqttHost): HEMS link off")
            return
        }
        this.settings = s
        this.topics = mqttTopics(s.prefix)
        if (s.haDiscovery) {
            const ha = new HaAnnouncer(s, ds.deviceIdentifier("self"))
            this.ha = ha
            this.subscribe(ha.birthTopic, (payload, retain) => ha.onBirth(payload, retain))
            this.onConnected(() => ha.restart())
        }
        this.decoder = new MqttDecoder(this.subscribedTopics(), H.maxPayloadBytes)
        const cmdTopic = this.topics.cmd
        const link = this
        // The rate limit applies to a command as it arrives, so the excess never waits on the heap.
        this.intake = new MqttIntake(this.decoder, M.rxBacklogMaxBytes, (p, now) => p.kind !== "publish" || p.topic !== cmdTopic || p.retain || link.admit(now))
        this.log(`HEMS link on ${s.tls ? "TLS" : "plain TCP"}, topics under ${s.prefix}/`)
        // Loop health: command handling is timed like the ticks (budget: one V2H tick).
        this.loopCommand = this.controller.loops.add("mqtt_command", 0, DEVS.ticks.v2hMs)
        for (;;) {
            try {
                await this.connection()
            } catch (e) {
                this.log("connection dropped: " + ((e as Error).message || "error"))
            }
            this.connected = false
            await this.closeSocket()
            // The backoff restarts only after a session proved itself (a PINGRESP): a broker that
            // accepts and then misbehaves, or refuses our credentials, is retried ever more slowly;
            // so is a broker that goes away after a good session (the restart happens once).
            if (this.session.ended()) this.backoff.reset()
            const delayMs = this.backoff.nextDelayMs(Math.random())
            this.log(`broker unreachable or lost; next attempt in ${delayMs} ms`)
            await ds.sleep(delayMs)
        }
    }

    private subscribedTopics(): string[] {
        const all = [this.topics.cmd]
        for (const t of this.extraTopics) all.push(t)
        return all
    }

    private async closeSocket() {
        const sock = this.sock
        this.sock = null
        if (!sock) return
        try {
            await sock.close()
        } catch (e) {}
    }

    /** One connection: CONNECT, then read / publish / ping until it ends (returns or throws). */
    private async connection() {
        const s = this.settings
        this.sock = await connect({ host: s.host, port: s.port, proto: s.tls ? "tls" : "tcp", timeout: M.connectTimeoutMs })
        this.decoder.reset()
        this.intake.attach(this.sock)
        this.session.opened(ds.millis())
        await this.write(
            encodeConnect({
                clientId: "devs_" + ds.deviceIdentifier("self"),
                keepAliveS: M.keepAliveS,
                user: s.user,
                password: s.password,
                will: { topic: this.topics.online, payload: "false", retain: true },
            }),
        )
        let nextPumpMs = 0
        for (;;) {
            const p = await this.intake.next(LOOP_MS)
            if (p) await this.take(p)
            else if (this.intake.ended !== null) throw new Error(this.intake.ended)
            const now = ds.millis()
            const t = this.session.tick(now)
            if (t === "ping") {
                await this.write(encodePingreq())
                this.session.pinged(now)
            } else if (t) throw new Error(t)
            if (this.session.isUp() && now >= nextPumpMs) {
                nextPumpMs = now + LOOP_MS
                await this.pump()
                await this.spend(SLICE_UNITS) // publishing is a slice of its own
            }
        }
    }

    /** Acts on one received packet (throws when the connection is to end). */
    private async take(p: MqttIn) {
        const a = this.session.handle(p, ds.millis())
        if (a.ackType) await this.write(encodeAck(a.ackType, a.ackId))
        if (a.op === "close") throw new Error(a.reason)
        if (a.op === "up") await this.up()
        else if (a.op === "message") await this.spend(this.onMessage(a) ? UNITS_COMMAND : 0)
        else if (a.op === "dropped") this.onDropped(a)
        // Any packet counts: a flood of tiny packets must not hold the VM either.
        await this.spend(UNITS_PACKET)
    }

    /** CONNACK accepted: subscribe, ping (the keep-alive check starts), announce. */
    private async up() {
        this.connected = true
        this.schedule.restart()
        this.statusDirty = true
        this.log("connected")
        await this.write(encodeSubscribe(1, this.subscribedTopics()))
        await this.write(encodePingreq())
        this.session.pinged(ds.millis())
        await this.write(encodePublish(this.topics.online, "true", true))
        for (const fn of this.connectedHooks) {
            try {
                fn()
            } catch (e) {
                this.log("connect hook error: " + ((e as Error).message || "error"))
            }
        }
    }

    private slice = 0

    /** Counts work done; past SLICE_UNITS, sleeps 1 ms so the VM's scheduler pass ends (see SLICE_UNITS). */
    private async spend(units: number) {
        this.slice += units
        if (this.slice >= SLICE_UNITS) {
            this.slice = 0
            await ds.sleep(1)
        }
    }

    private async write(pkt: Buffer) {
        await this.sock.send(pkt)
    }

    /** Publishes a JSON document in small chunks (mqtt-codec jsonChunks: the heap fragments). */
    private async writeDoc(topic: string, doc: any, retain: boolean) {
        const bufs = jsonChunks(doc, DOC_CHUNK_CHARS).map(c => Buffer.from(c))
        await this.write(encodePublishHeader(topic, bufs.reduce((n, b) => n + b.length, 0), retain))
        for (const b of bufs) await this.write(b)
    }

    /** Publishes what is due: status and telemetry, events, the next discovery config. */
    private async pump() {
        const now = ds.millis()
        const tele = this.schedule.due(now)
        if (tele || this.statusDirty) {
            this.statusDirty = false
            const status = this.controller.statusJson(now)
            status.mqtt = this.linkFigures()
            await this.writeDoc(this.topics.status, status, true)
            if (tele) {
                const doc = telemetryDoc(status, now, this.events.dropped)
                doc.mqtt = status.mqtt
                await this.writeDoc(this.topics.telemetry, doc, false)
            }
        }
        // Taken off the queue before the write: a write that fails loses that one event (QoS 0)
        // rather than publishing it twice after the reconnect.
        for (;;) {
            const ev = this.events.shift()
            if (ev === undefined) break
            await this.write(encodePublish(this.topics.event, ev, false))
        }
        if (this.ha) {
            const c = this.ha.next()
            if (c) await this.write(encodePublish(c.topic, c.payload, true))
        }
    }

    private linkFigures(): any {
        return linkDoc({
            session: this.session.counters,
            decoder: this.decoder.stats,
            commandsLimited: this.limiter.refused,
            rxBacklogPeakBytes: this.intake.peakBytes,
            rxDropped: this.intake.dropped,
        })
    }

    private onDropped(a: MqttAction) {
        const isCmd = a.topic === this.topics.cmd
        this.log(`message on ${a.topic} skipped: ${a.sizeBytes} bytes`)
        this.queueEvent(oversizeDoc(a.topic, isCmd, a.sizeBytes, H.maxPayloadBytes, ds.millis()))
    }

    /** Hands a message to its topic's handler; true when that was real work (a command parsed, a handler run). */
    private onMessage(a: MqttAction): boolean {
        try {
            if (a.topic === this.topics.cmd) return this.onCommand(a.payload, a.retain)
            const i = this.extraTopics.indexOf(a.topic)
            if (i >= 0) this.extraHandlers[i](a.payload, a.retain)
            return i >= 0
        } catch (e) {
            this.log("message handler error: " + ((e as Error).message || "error"))
            if (a.topic === this.topics.cmd) this.queueEvent(commandEventDoc("internal error while handling the command; nothing applied", ds.millis()))
            return true
        }
    }

    /**
     * The rate limit, applied to a command as it arrives (so the excess never waits on the heap):
     * false when it is over the limit (counted; reported once per limiting episode).
     */
    private admit(now: number): boolean {
        const wasLimiting = this.limiter.limiting
        if (this.limiter.take(now)) return true
        this.statusDirty = true
        if (!wasLimiting) {
            this.log("commands rate-limited")
            this.queueEvent(rateLimitedDoc(H.commandsPerS, H.commandBurst, now))
        }
        return false
    }

    /** A message on `<prefix>/cmd` (admitted by the rate limit): Controller.command; the result goes to `<prefix>/event`. True when parsed. */
    private onCommand(payload: Buffer, retain: boolean): boolean {
        const now = ds.millis()
        // A retained command is stale by definition; applying it at every (re)connect would also
        // restart the V2H command timeout and defeat the fallback.
        if (retain) {
            this.queueEvent(commandEventDoc("retained command ignored: publish commands with retain off (a stale retained command would restart the command timeout at every reconnect)", now))
            return false
        }
        const loops = this.controller.loops
        loops.start(this.loopCommand, now)
        const r = this.controller.handle(payload.toString(), now)
        const reason = r.error
        loops.end(this.loopCommand, ds.millis())
        if (reason) this.log("command rejected: " + reason)
        this.queueEvent(commandEventDoc(reason, now, r.id))
        return true
    }
}

/** Starts the link (and returns it): settings, then the connection loop. Never throws. */
export function startHemsMqtt(controller: Controller): HemsMqtt {
    const link = new HemsMqtt(controller)
    link.start()
    return link
}
