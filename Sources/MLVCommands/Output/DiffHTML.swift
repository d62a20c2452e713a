// The HTML form of a diff report (`--format html`) and the page around `metrics show --format html`.
import Foundation
import MLVCore

/// One self-contained HTML file: no scripts, no external assets; charts are inline SVG
/// (before/after histograms of drifted numeric columns, metric deltas).
extension DiffRender {
    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func table(_ header: [String], _ rows: [[String]]) -> String {
        "<table><tr>" + header.map { "<th>\(esc($0))</th>" }.joined() + "</tr>" +
            rows.map { "<tr>" + $0.map { "<td>\(esc($0))</td>" }.joined() + "</tr>" }.joined() + "</table>"
    }

    static func histogramSVG(_ column: String, _ h: TableDiff.Histogram) -> String {
        let w = 420.0, ht = 140.0, pad = 20.0
        let top = max(h.old.max() ?? 0, h.new.max() ?? 0, 1e-9)
        let bw = (w - 2 * pad) / Double(h.old.count)
        var bars = ""
        for (i, (o, n)) in zip(h.old, h.new).enumerated() {
            let x = pad + Double(i) * bw
            let ho = o / top * (ht - 2 * pad), hn = n / top * (ht - 2 * pad)
            bars += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#9aa5b1\"/>", x, ht - pad - ho, bw * 0.48, ho)
            bars += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#d9480f\"/>", x + bw * 0.5, ht - pad - hn, bw * 0.48, hn)
        }
        let lo = formatNumber(h.edges.first ?? 0), hi = formatNumber(h.edges.last ?? 0)
        return "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(ht))\" role=\"img\" aria-label=\"\(esc(column)) histogram\">" +
            bars + "<text x=\"\(pad)\" y=\"\(ht - 4)\" font-size=\"10\">\(esc(lo))</text>" +
            "<text x=\"\(w - pad)\" y=\"\(ht - 4)\" font-size=\"10\" text-anchor=\"end\">\(esc(hi))</text></svg>" +
            "<figcaption>\(esc(column)): <span class=old>■ old</span> <span class=new>■ new</span></figcaption></figure>"
    }

    static func metricsSVG(_ ms: [MetricChange]) -> String {
        let rows = ms.filter { $0.relative != nil && $0.old != $0.new }.prefix(30)
        guard !rows.isEmpty else { return "" }
        let w = 600.0, rowH = 18.0, mid = 320.0
        let top = max(rows.map { abs($0.relative!) }.max() ?? 0, 1e-9)
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(Double(rows.count) * rowH + 10))\" role=\"img\" aria-label=\"metric changes\">"
        for (i, m) in rows.enumerated() {
            let y = Double(i) * rowH + 5
            let len = abs(m.relative!) / top * 180
            let x = m.relative! >= 0 ? mid : mid - len
            out += "<text x=\"\(mid - 190)\" y=\"\(y + 12)\" font-size=\"11\" text-anchor=\"end\">\(esc(m.key))</text>"
            out += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"12\" fill=\"%@\"/>", x, y, max(len, 1), m.relative! >= 0 ? "#2b8a3e" : "#c92a2a")
            out += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">%@</text>", mid + 185, y + 11, esc(pct(m.relative)))
        }
        return out + "<line x1=\"\(mid)\" x2=\"\(mid)\" y1=\"0\" y2=\"\(Int(Double(rows.count) * rowH + 10))\" stroke=\"#333\"/></svg>"
    }

    static func html(_ r: DiffReport, _ gates: [GateResult]) -> String {
        let v: Value = { $0 }   // whole: `table` and `esc` escape at the tag
        func list(_ items: [String]) -> String { items.isEmpty ? "" : "<ul>" + items.map { "<li>\(esc($0))</li>" }.joined() + "</ul>" }
        var body = "<h1>mlv diff <code>\(esc(r.from))</code> → <code>\(esc(r.to))</code></h1>"
        for g in gates { body += "<p\(g.fired ? " class=gate" : "")>\(esc(gateLine(g)))</p>" }
        if !r.hasChanges { body += "<p>No changes in tracked data, metrics or params.</p>" }
        if !r.targets.isEmpty {
            body += "<h2>Targets</h2>" + table(["", "target", "kind", "size", "summary"],
                                               r.targets.map { [symbol($0.change), $0.path, $0.kind.rawValue, size($0), summary($0, v)] })
        }
        let ms = r.metrics + r.params
        if ms.contains(where: { $0.old != $0.new }) { body += "<h2>Metrics and params</h2>" + metricsSVG(ms) }
        for (title, ms) in [("metric", r.metrics), ("param", r.params)] {
            let rows = metricRows(ms, v)
            if !rows.isEmpty { body += table(metricHeader.map { $0 == "key" ? title : $0 }, rows) }
            if let n = unchangedNote(ms, title) { body += "<p>\(esc(n))</p>" }
        }
        for t in r.targets {
            body += "<h2><code>\(esc(t.path))</code></h2><p>\(symbol(t.change)) \(esc(t.change.rawValue)) \(esc(t.kind.rawValue)), \(esc(size(t)))</p>"
            body += list((t.warnings ?? []).map { "warning: " + $0 })
            body += list(fileLines(t, v))
            body += list(detailLines(t, v))
            if let b = t.binary { body += "<p>\(esc(binaryLine(b)))</p>" }
            for (name, tab) in tables(t) {
                if name != t.path { body += "<h3>\(esc(name))</h3>" }
                body += list(tableLines(tab, v, sentence: { $0 }))
                body += table(statsHeader, statsRows(tab, v))
                let charts = tab.stats.filter { $0.drifted && $0.histogram != nil }.prefix(12)
                if !charts.isEmpty { body += "<div class=charts>" + charts.map { histogramSVG($0.column, $0.histogram!) }.joined() + "</div>" }
                let order = columnOrder(tab)
                if !tab.modifiedRows.isEmpty {
                    body += "<h4>\(esc(sampleTitle("modified", shown: tab.modifiedRows.count, of: tab.rows.modified)))</h4>"
                    // One row per record, its changed cells one per line.
                    body += "<table><tr><th>key</th><th>line</th><th>changed cells</th></tr>" + tab.modifiedRows.map { m in
                        "<tr><td>\(esc(keyText(m, tab, v)))</td><td>\(m.line)</td><td>" +
                            cellChanges(m, order, esc, separator: "<br>") + "</td></tr>"
                    }.joined() + "</table>"
                }
                for (what, sample, total) in [("added", tab.addedSample, tab.rows.added), ("removed", tab.removedSample, tab.rows.removed)] where !sample.isEmpty {
                    // Key columns first, then the table's order, then any other the records have.
                    var columns = tab.rows.key.filter { k in sample.contains { $0[k] != nil } }
                    columns += order.filter { c in !columns.contains(c) && sample.contains { $0[c] != nil } }
                    columns += Set(sample.flatMap(\.keys)).subtracting(columns).sorted()
                    body += "<h4>\(esc(sampleTitle(what, shown: sample.count, of: total)))</h4>" +
                        table(columns, sample.map { rec in columns.map { rec[$0] ?? "" } })
                }
            }
        }
        return page("mlv diff \(r.from) → \(r.to)", body)
    }

    /// One self-contained page around `body` (already HTML); `title` is escaped here.
    static func page(_ title: String, _ body: String) -> String {
        let css = "body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0}" +
            "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;white-space:pre-wrap}th{background:#f1f3f5}.gate{color:#c92a2a;font-weight:bold}" +
            ".old{color:#9aa5b1}.new{color:#d9480f}.charts{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}"
        return "<!doctype html><html><head><meta charset=\"utf-8\"><title>\(esc(title))</title><style>\(css)</style></head><body>\(body)</body></html>\n"
    }
}
