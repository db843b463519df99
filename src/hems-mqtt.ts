// The MQTT link to a home energy manager: shell code only. It reads and validates the broker
// settings (core/hems/mqtt-settings.ts), keeps one connection through the DeviceScript MQTT client
// with a reconnect backoff (core/common/backoff.ts), publishes status / telemetry / events (core:
// core/hems/messages.ts, Controller.statusJson) and hands every command payload to
// Controller.command, the one command path. Nothing here decides anything about the charger.
//
// Topics (README "MQTT link to a home energy manager"):
//   <prefix>/status          retained status document     <prefix>/status/online  retained "true"/"false" (last will)
//   <prefix>/telemetry       every mqtt.telemetryPeriodMs  <prefix>/event          events, command results
//   <prefix>/cmd             commands (JSON)
//
// Every handler is wrapped: an exception in the VM panics (restarts) the device.
import * as ds from "@devicescript/core"
import { MQTTClient, MQTTMessage, MQTTState } from "@devicescript/net"
import { deleteSetting, readSetting } from "@devicescript/settings"
import { DEVS } from "./config/devs.gen"
import { Controller } from "./core/controller"
import { Backoff } from "./core/common/backoff"
import { BoundedQueue } from "./core/common/bounded-queue"
import { MQTT_SETTING_KEYS, MqttSettings, MqttTopics, mqttTopics, redact, resolveMqttSettings, secretsOf } from "./core/hems/mqtt-settings"
import { commandEventDoc, protectionEventDoc, settingRejectedDoc, telemetryDoc, TelemetrySchedule, v2hEventDoc } from "./core/hems/messages"
import { ProtectionEvent } from "./core/outlets/io"
import { V2hEvent } from "./core/v2h/io"

const M = DEVS.mqtt
/** The link's own loop: flushes events, publishes telemetry, notices a lost connection. */
const LOOP_MS = DEVS.ticks.supervisoryMs
/** The client pings at 2/3 of the keep-alive, so the broker hears from us well within 1.5x. */
const PING_MS = Math.round((M.keepAliveS * 1000 * 2) / 3)
/** Received-chunk drain per loop (see drainReceived): wake-ups, and the pause that lets each run. */
const DRAIN_WAKEUPS = 16
const DRAIN_GAP_MS = 5

export class HemsMqtt {
    private settings: MqttSettings = null
    private topics: MqttTopics = null
    private secrets: string[] = []
    private client: MQTTClient = null
    private readonly backoff = new Backoff(M)
    private readonly events = new BoundedQueue<string>(M.eventQueueMax)
    private readonly schedule = new TelemetrySchedule(M.telemetryPeriodMs)
    private statusDirty = true
    /** false once the settings say there is no broker. */
    private enabled = true
    connected = false

    constructor(private readonly controller: Controller) {}

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
        this.log(`HEMS link on ${s.tls ? "TLS" : "plain TCP"}, topics under ${s.prefix}/`)
        const client = new MQTTClient({
            host: s.host,
            port: s.port,
            proto: s.tls ? "tls" : "tcp",
            username: s.user ? s.user : undefined,
            password: s.password ? s.password : undefined,
            timeout: M.connectTimeoutMs,
            keepAlive: M.keepAliveS,
            pingInterval: PING_MS,
            // Our loop below reconnects with backoff; the client's own fixed-period watchdog only
            // runs between start() and stop(), i.e. during one attempt, and must not fire in it.
            watchdogInterval: M.connectTimeoutMs * 2,
            will: { topic: this.topics.online, message: "false", qos: 0, retain: true },
        })
        // The client logs the broker address, and traces every packet in hex (the CONNECT packet
        // carries the user name and password): its log goes through the redaction, its trace nowhere.
        // (DeviceScript arrow functions cannot use `this`: `self`.)
        const self = this
        const raw: any = client
        raw.log = (msg: string) => self.log(msg)
        raw.trace = (msg: string) => {}
        client.onerror.subscribe(err => {
            self.log("error: " + (err ? err.message : "?"))
        })
        this.client = client
        await client.subscribe(this.topics.cmd, async msg => {
            await self.onCommand(msg)
        })
        for (;;) {
            try {
                await this.session(client)
            } catch (e) {
                this.log("connection dropped: " + ((e as Error).message || "error"))
            }
            this.connected = false
            try {
                await client.stop()
            } catch (e) {}
            const delayMs = this.backoff.nextDelayMs(Math.random())
            this.log(`broker unreachable or lost; next attempt in ${delayMs} ms`)
            await ds.sleep(delayMs)
        }
    }

    /** One connection: connect, announce, then publish until the connection is lost. */
    private async session(client: MQTTClient) {
        await client.start()
        if (!this.isUp()) return
        this.connected = true
        this.backoff.reset()
        this.schedule.restart()
        this.statusDirty = true
        this.log("connected")
        if (!(await this.publish(this.topics.online, "true", true))) return
        while (this.isUp()) {
            if (!(await this.pump())) return
            await this.drainReceived()
            await ds.sleep(LOOP_MS)
        }
    }

    /**
     * Works around @devicescript/net 2.16.4: its socket handler takes ONE received chunk per
     * wake-up, and wake-ups that come while it runs collapse into one (core emitter semantics), so
     * after a burst some chunks wait in the socket until the next packet arrives: a command could
     * wait indefinitely. Measured with 100 messages/s in the broker test. Wake it again while
     * chunks are waiting (a bounded number of times per loop).
     */
    private async drainReceived() {
        const raw: any = this.client
        for (let i = 0; i < DRAIN_WAKEUPS; i++) {
            const sock: any = raw.socket
            if (!sock || !sock.buffers || sock.buffers.length === 0) return
            sock.onmessage.emit(undefined)
            await ds.sleep(DRAIN_GAP_MS)
        }
    }

    private isUp(): boolean {
        const st = this.client.readyState
        return st === MQTTState.Connected || st === MQTTState.Sending
    }

    /** Publishes what is due. false when a publish failed (the connection is gone). */
    private async pump(): Promise<boolean> {
        const now = ds.millis()
        const tele = this.schedule.due(now)
        if (tele || this.statusDirty) {
            this.statusDirty = false
            const status = this.controller.statusJson(now)
            if (!(await this.publish(this.topics.status, JSON.stringify(status), true))) return false
            if (tele && !(await this.publish(this.topics.telemetry, JSON.stringify(telemetryDoc(status, now, this.events.dropped)), false)))
                return false
        }
        for (;;) {
            const ev = this.events.peek()
            if (ev === undefined) break
            if (!(await this.publish(this.topics.event, ev, false))) return false
            this.events.shift()
        }
        return true
    }

    private async publish(topic: string, payload: string, retain: boolean): Promise<boolean> {
        try {
            return await this.client.publish(topic, payload, 0, retain)
        } catch (e) {
            this.log("publish failed: " + ((e as Error).message || "error"))
            return false
        }
    }

    /** A message on `<prefix>/cmd`: through Controller.command; the result goes to `<prefix>/event`. */
    private async onCommand(msg: MQTTMessage) {
        try {
            if (msg.topic !== this.topics.cmd) return
            const now = ds.millis()
            const bytes = msg.content ? msg.content.length : 0
            let reason = ""
            let id = ""
            // A retained command is stale by definition; applying it at every (re)connect would also
            // restart the V2H command timeout and defeat the fallback. Oversize payloads are refused
            // on their byte count, before decoding.
            if (msg.retain) reason = "retained command ignored: publish commands with retain off (a stale retained command would restart the command timeout at every reconnect)"
            else if (bytes > DEVS.hems.maxPayloadBytes) reason = `payload too long: ${bytes} bytes (limit ${DEVS.hems.maxPayloadBytes})`
            else {
                const r = this.controller.handle(msg.content.toString(), now)
                reason = r.error
                id = r.id
            }
            if (reason) this.log("command rejected: " + reason)
            this.queueEvent(commandEventDoc(reason, now, id))
        } catch (e) {
            this.log("command handler error: " + ((e as Error).message || "error"))
            this.queueEvent(commandEventDoc("internal error while handling the command; nothing applied", ds.millis()))
        }
    }
}

/** Starts the HEMS link in the background (settings, then connection). Never throws. */
/** Starts the link (and returns it): settings, then the connection loop. */
export function startHemsMqtt(controller: Controller): HemsMqtt {
    const link = new HemsMqtt(controller)
    link.start()
    return link
}
