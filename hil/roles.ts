// Role pinning: which server each of the firmware's roles must bind to, and making it so.
//
// The DeviceScript runtime's role manager (jacdac-c services/rolemgr.c, served by the firmware as
// a Jacdac RoleManager service) auto-binds every unbound role to the first unassigned service of
// its class on any known device, about once a second. With two servers of one class on the bus
// (a board meter and a bench meter, two relays) the role goes to whichever the runtime listed
// first. The bench therefore does what the devtools' role editor does: it turns auto-binding off
// (register auto_bind = 0) and assigns each role explicitly with set_role(device id, service
// index, role name), then reads the assignments back (the list_roles pipe) and compares them with
// the plan. A role that cannot be pinned stops the bench (exit 2) naming the role and why.
import { InPipeReader, jdpack, type JDBus, type JDService, type JDServiceServer } from "jacdac-ts"
import type { PlantServers } from "../sim/servers"

export const SRV_ROLE_MANAGER = 0x1e4b7e66
const REG_AUTO_BIND = 0x80
const CMD_SET_ROLE = 0x81
const CMD_LIST_ROLES = 0x83

/** One role of the firmware as its role manager lists it. */
export interface RoleBinding {
    role: string
    serviceClass: number
    /** "" when unbound. */
    deviceId: string
    serviceIndex: number
}

/** Where a role must bind. */
export interface RoleTarget {
    deviceId: string
    serviceIndex: number
    /** What serves it, for messages ("bench plant: outlet 1 meter"). */
    what: string
}

/** The bench's own servers, by the firmware's role names (the role table in docs/hil-bench.md). */
export function benchRoleTable(servers: PlantServers, deviceId: string): Map<string, RoleTarget> {
    const t = new Map<string, RoleTarget>()
    const add = (role: string, s: JDServiceServer, what: string) => t.set(role, { deviceId, serviceIndex: s.serviceIndex, what: `bench ${what}` })
    servers.relays.forEach((s, i) => add(`outlet${i + 1}Relay`, s, `outlet ${i + 1} relay`))
    servers.meters.forEach((s, i) => add(`outlet${i + 1}Meter`, s, `outlet ${i + 1} meter`))
    add("outletSupply", servers.outletSupply, "outlet supply contactor")
    add("outletMainSwitch", servers.mainSwitch, "outlet main switch")
    add("alarm", servers.buzzer, "alarm buzzer")
    add("battery", servers.battery, "traction battery")
    add("inverter", servers.inverter, "V2H inverter")
    add("gridMeter", servers.gridMeter, "grid meter")
    add("estop", servers.estop, "e-stop button")
    return t
}

/** A role name without a DeviceScript binding hint ("outlet1Meter[app:0]" -> "outlet1Meter"). */
export function baseRoleName(role: string): string {
    const i = role.indexOf("[")
    return i < 0 ? role : role.slice(0, i)
}

/** Reads the firmware's roles and their current bindings. */
export async function listRoles(bus: JDBus, roleManager: JDService, timeoutMs = 1500): Promise<RoleBinding[]> {
    const inp = new InPipeReader(bus)
    await roleManager.sendPacketAsync(inp.openCommand(CMD_LIST_ROLES), true)
    const { output } = await inp.readAll(timeoutMs)
    const out: RoleBinding[] = []
    for (const pkt of output) {
        if (!pkt.data?.length) continue
        const [dev, serviceClass, serviceIndex, role] = pkt.jdunpack<[Uint8Array, number, number, string]>("b[8] u32 u8 s")
        const deviceId = dev.every(b => b === 0) ? "" : Buffer.from(dev).toString("hex")
        out.push({ role, serviceClass, deviceId, serviceIndex: deviceId ? serviceIndex : -1 })
    }
    return out
}

export interface PinProblem {
    role: string
    message: string
}

/**
 * Compares the firmware's bindings with the plan. Roles the bench serves must be bound to the
 * bench's server; any other role must be bound to a service of the firmware's own side of the
 * link (the board serves it itself), never to a host device or nothing.
 */
export function checkBindings(bindings: RoleBinding[], plan: Map<string, RoleTarget>, hostDeviceIds: Set<string>): PinProblem[] {
    const problems: PinProblem[] = []
    for (const b of bindings) {
        const target = plan.get(baseRoleName(b.role))
        const at = b.deviceId ? `${b.deviceId}:${b.serviceIndex}` : "nothing"
        if (target) {
            if (b.deviceId !== target.deviceId || b.serviceIndex !== target.serviceIndex)
                problems.push({
                    role: b.role,
                    message: `bound to ${at}${b.deviceId && !hostDeviceIds.has(b.deviceId) ? " (a server on the board's side)" : ""}, must be the ${target.what} (${target.deviceId}:${target.serviceIndex})`,
                })
        } else if (!b.deviceId)
            problems.push({ role: b.role, message: `unbound: the bench does not model service class 0x${b.serviceClass.toString(16)} and nothing on the board serves it` })
        else if (hostDeviceIds.has(b.deviceId))
            problems.push({ role: b.role, message: `bound to the host's ${at}, which the bench does not plan for this role` })
    }
    return problems
}

/** Turns auto-binding off and assigns every planned role that is not where it belongs. Returns the number of assignments sent. */
export async function pinRoles(roleManager: JDService, bindings: RoleBinding[], plan: Map<string, RoleTarget>): Promise<number> {
    await roleManager.register(REG_AUTO_BIND).sendSetPackedAsync([0], false)
    let sent = 0
    for (const b of bindings) {
        const target = plan.get(baseRoleName(b.role))
        if (!target || (b.deviceId === target.deviceId && b.serviceIndex === target.serviceIndex)) continue
        const id = Uint8Array.from(target.deviceId.match(/../g)!, h => parseInt(h, 16))
        const payload = jdpack("b[8] u8 s", [id, target.serviceIndex, b.role])
        await roleManager.sendCmdAsync(CMD_SET_ROLE, payload, false)
        // jacdac-c takes the name's length as the payload size minus sizeof its command struct,
        // which the 8-byte alignment of device_id pads to 16 on some targets (9 on others):
        // the same command with 7 trailing zeros names the role there; elsewhere it matches no
        // role and is ignored. The read-back (listRoles) decides which one took.
        const padded = new Uint8Array(payload.length + 7)
        padded.set(payload)
        await roleManager.sendCmdAsync(CMD_SET_ROLE, padded, false)
        sent++
    }
    return sent
}

/** A service on the bus, as far as planning needs it. */
export interface BusService {
    deviceId: string
    serviceIndex: number
    serviceClass: number
}

/**
 * Targets for the roles the bench does not serve and that are unbound (after a reset the runtime
 * may not have bound them before auto-binding went off): the one service of the role's class on
 * the board's side of the link. Several candidates are ambiguous and stay unplanned (a problem).
 */
export function boardTargets(bindings: RoleBinding[], services: BusService[], plan: Map<string, RoleTarget>, hostDeviceIds: Set<string>): { targets: Map<string, RoleTarget>; ambiguous: PinProblem[] } {
    const targets = new Map<string, RoleTarget>()
    const ambiguous: PinProblem[] = []
    const taken = new Set(bindings.filter(b => b.deviceId).map(b => `${b.deviceId}:${b.serviceIndex}`))
    for (const b of bindings) {
        if (plan.has(baseRoleName(b.role)) || b.deviceId) continue
        const free = services.filter(s => s.serviceClass === b.serviceClass && !hostDeviceIds.has(s.deviceId) && !taken.has(`${s.deviceId}:${s.serviceIndex}`))
        if (free.length === 1) {
            targets.set(baseRoleName(b.role), { deviceId: free[0].deviceId, serviceIndex: free[0].serviceIndex, what: "board's own server" })
            taken.add(`${free[0].deviceId}:${free[0].serviceIndex}`)
        } else if (free.length > 1)
            ambiguous.push({
                role: b.role,
                message: `unbound, and ${free.length} servers of class 0x${b.serviceClass.toString(16)} on the board's side could serve it (${free.map(s => `${s.deviceId}:${s.serviceIndex}`).join(", ")}): the bench cannot tell which is meant`,
            })
    }
    return { targets, ambiguous }
}
