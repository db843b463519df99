// The report page's own script (plain browser JavaScript, inlined into report.html after the
// vega runtime). It expands the compact run data into vega's data sets, starts the view, and
// records what happened in window.__report for the browser test (ready, the error if any).
;(function () {
    "use strict"
    var state = { ready: false, error: null, points: 0 }
    window.__report = state
    try {
        var data = JSON.parse(document.getElementById("report-data").textContent)
        var spec = JSON.parse(document.getElementById("report-spec").textContent)
        var two = data.runs.length > 1
        var sets = {}
        function put(name, row) {
            ;(sets[name] = sets[name] || []).push(row)
        }
        var minW = data.durationS / 400
        data.runs.forEach(function (run, ri) {
            var pre = two ? run.label + ": " : ""
            Object.keys(run.series).forEach(function (panel) {
                Object.keys(run.series[panel]).forEach(function (label, si) {
                    var tv = run.series[panel][label]
                    for (var i = 0; i < tv[0].length; i++) {
                        put(panel, { t: tv[0][i], v: tv[1][i], series: label, run: run.label })
                        if (panel === "power") put("overview", { t: tv[0][i], v: tv[1][i], series: label, run: run.label })
                    }
                    state.points += tv[0].length
                })
            })
            Object.keys(run.states).forEach(function (row) {
                run.states[row].forEach(function (s) {
                    put("states", { row: pre + row, value: s.value, t: s.from, t2: Math.max(s.to, s.from + minW / 4) })
                })
            })
            run.markers.forEach(function (m) {
                put("markers", { t: m.tS, kind: m.kind, text: m.text, run: run.label })
            })
            run.expectations.forEach(function (e, i) {
                var result = e.pass ? "pass" : "fail"
                var t2 = Math.max(e.toS, e.fromS + minW)
                put("windows", { t: e.fromS, t2: t2, panel: e.panel, name: pre + e.name, result: result, detail: e.detail })
                put("expectations", { row: pre + (i + 1) + ". " + e.name, t: e.fromS, t2: t2, name: e.name, result: result, detail: e.detail })
            })
        })
        // Hover read-out: the first run's probe times; a second run's nearest sample at each.
        function nearest(ts, t) {
            var lo = 0
            var hi = ts.length - 1
            while (lo < hi) {
                var mid = (lo + hi) >> 1
                if (ts[mid] < t) lo = mid + 1
                else hi = mid
            }
            if (lo > 0 && Math.abs(ts[lo - 1] - t) < Math.abs(ts[lo] - t)) lo--
            return lo
        }
        var base = data.runs[0].probe
        Object.keys(base.values).forEach(function (panel) {
            for (var i = 0; i < base.t.length; i++) {
                var row = { t: base.t[i] }
                data.runs.forEach(function (run, ri) {
                    var j = ri === 0 ? i : nearest(run.probe.t, base.t[i])
                    Object.keys(run.probe.values[panel]).forEach(function (label, si) {
                        row["v" + ri + "_" + si] = run.probe.values[panel][label][j]
                    })
                })
                put("probe_" + panel, row)
            }
        })
        spec.data.forEach(function (d) {
            if (d.values !== undefined && sets[d.name]) d.values = sets[d.name]
        })
        var view = new vega.View(vega.parse(spec), { renderer: "svg", container: "#plots", hover: true })
        window.__reportView = view
        view.runAsync().then(
            function () {
                state.ready = true
            },
            function (err) {
                state.error = String(err && err.stack ? err.stack : err)
                console.error("report: " + state.error)
            },
        )
    } catch (err) {
        state.error = String(err && err.stack ? err.stack : err)
        console.error("report: " + state.error)
    }
})()
