// The firmware's GC heap, read from the WASM VM's memory by the host, and the CPU time of each
// VM scheduler pass.
//
// DeviceScript 2.16.4 gives programs no way to read their heap usage (no gc/heap call in
// @devicescript/core; the runtime prints heap figures only on an out-of-memory panic), so the
// figure is taken here, outside the firmware, from the VM's own data structures (runtime
// devicescript/gc_alloc.c, wasm32): the heap is one chunk right after its devs_gc_t header
//     devs_gc_t { first_free, first_chunk, num_alloc, gc_threshold, curr_alloc, ctx }   (6 x u32)
//     chunk_t   { next, end, blocks... }   each block: u32 header = tag << 24 | size in words
// and a FINAL block (tag 0x4f, size 1) at `end`. The header is found by scanning WASM memory
// for that shape (once per program start), then the blocks are walked after every VM
// scheduler pass.
//
// Figures:
//   usedBytes   blocks not free: live objects and garbage not yet collected;
//   liveBytes   usedBytes minus what was allocated since the last collection (curr_alloc): the
//               live set at the last GC, plus nothing else. Its peak is what the program needs;
//               a heap smaller than it runs out of memory. (The GC runs whenever a quarter of the
//               heap has been allocated, and when an allocation does not fit.)
//   maxFreeBlockBytes  largest free block at the time of the live peak (fragmentation).
//   maxPassCpuMs  longest VM scheduler pass in CPU time (process.cpuUsage, so other processes on a
//               loaded machine do not count). The simulator runs the VM on a virtual clock that
//               stands still while the VM computes, so a firmware-side measure of tick lateness
//               sees none of its own CPU time; this one does: a pass runs every ready fiber until
//               each yields, so no timer (the 20 ms protection tick) waits longer than the longest
//               pass. Node's own GC can land in a pass: the figure is an upper bound, and noisy.
import { cpuUsage } from "node:process"
import type { DevsVm } from "./devs-vm"

const TAG_FREE = 0x1
const TAG_FINAL = 0x4f
const WORD = 4

export interface HeapFigures {
    heapBytes: number
    usedBytes: number
    liveBytes: number
    maxFreeBlockBytes: number
    maxPassCpuMs: number
}

export interface HeapMonitor {
    /** Peaks since the last take (then reset); undefined when the heap has not been found. */
    takePeak(): HeapFigures | undefined
    /** Peaks since the program started. */
    overall(): HeapFigures | undefined
}

interface VmMem {
    HEAPU8: Uint8Array
    _jd_em_process(): number
}

export function installHeapMonitor(vmIn: DevsVm): HeapMonitor {
    const vm = vmIn as unknown as VmMem
    let gcAddr = -1
    let window: HeapFigures | undefined
    let all: HeapFigures | undefined
    const u32 = () => new Uint32Array(vm.HEAPU8.buffer)

    function valid(m: Uint32Array, g: number): boolean {
        const chunk = m[g / WORD + 1]
        if (chunk !== g + 6 * WORD || m[chunk / WORD] !== 0) return false
        const end = m[chunk / WORD + 1]
        if (end <= chunk || end >= m.length * WORD || end - chunk > 1 << 24) return false
        return m[end / WORD] === ((TAG_FINAL << 24) | 1) >>> 0
    }

    function find(m: Uint32Array): number {
        for (let i = 0; i < m.length - 8; i++) {
            if (m[i + 1] === (i + 6) * WORD && valid(m, i * WORD)) return i * WORD
        }
        return -1
    }

    let passes = 0
    function sample(passMs: number) {
        const m = u32()
        if (gcAddr < 0 || !valid(m, gcAddr)) {
            // Not there yet (before the program starts) or moved (a restart): look again, not every pass.
            if (passes++ % 50 !== 0) return
            gcAddr = find(m)
            if (gcAddr < 0) return
        }
        const chunk = m[gcAddr / WORD + 1]
        const end = m[chunk / WORD + 1]
        const currAllocWords = m[gcAddr / WORD + 4]
        let used = 0
        let maxFree = 0
        for (let b = chunk + 2 * WORD; b < end; ) {
            const h = m[b / WORD]
            const words = h & 0xffffff
            const tag = h >>> 24
            if (words === 0) return // a block being written: skip this sample
            if ((tag & 0xf) === TAG_FREE) maxFree = Math.max(maxFree, words * WORD)
            else used += words * WORD
            b += words * WORD
        }
        const f: HeapFigures = { heapBytes: end - chunk, usedBytes: used, liveBytes: Math.max(0, used - currAllocWords * WORD), maxFreeBlockBytes: maxFree, maxPassCpuMs: passMs }
        window = peak(window, f)
        all = peak(all, f)
    }

    function peak(p: HeapFigures | undefined, f: HeapFigures): HeapFigures {
        if (!p) return { ...f }
        return {
            heapBytes: f.heapBytes,
            usedBytes: Math.max(p.usedBytes, f.usedBytes),
            liveBytes: Math.max(p.liveBytes, f.liveBytes),
            maxFreeBlockBytes: f.liveBytes > p.liveBytes ? f.maxFreeBlockBytes : p.maxFreeBlockBytes,
            maxPassCpuMs: Math.max(p.maxPassCpuMs, f.maxPassCpuMs),
        }
    }

    const process = vm._jd_em_process.bind(vm)
    vm._jd_em_process = () => {
        const c0 = cpuUsage()
        const r = process()
        const c = cpuUsage(c0)
        sample((c.user + c.system) / 1000)
        return r
    }
    return {
        takePeak() {
            const w = window
            window = undefined
            return w
        },
        overall: () => all,
    }
}
