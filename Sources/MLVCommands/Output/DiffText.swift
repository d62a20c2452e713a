// The text form of a diff report (`--format text`, the default): what a terminal or a log shows.
import Foundation
import MLVCore

extension DiffRender {
    static func text(_ r: DiffReport, _ gates: [GateResult], color: Bool) -> String {
        func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
        let v: Value = { clip($0) }
        var out = ["diff \(visible(r.from)) → \(visible(r.to))"]
        if !r.hasChanges { out.append("no changes in tracked data, metrics or params") }
        for t in r.targets {
            let c = t.change == .added ? "32" : (t.change == .removed ? "31" : "33")
            out.append(paint("\(symbol(t.change)) \(visible(t.path))", c) + "  (\(t.kind.rawValue), \(size(t)))")
            out += fileLines(t, visible).map { "    " + $0 }
            if let b = t.binary { out.append("    " + binaryLine(b)) }
            out += detailLines(t, v).map { "    " + $0 }
            for (name, tab) in tables(t) {
                if name != t.path { out.append("    \(visible(name)):") }
                out += tableLines(tab, v).map { "    " + $0 }
                out += align([statsHeader] + statsRows(tab, v), indent: "      ")
                let order = columnOrder(tab)
                if !tab.modifiedRows.isEmpty {
                    out.append("    " + sampleTitle("modified", shown: tab.modifiedRows.count, of: tab.rows.modified) + ":")
                    for m in tab.modifiedRows {
                        out.append("      ~ \(keyText(m, tab, v)) (line \(m.line)): " + cellChanges(m, order, v))
                    }
                }
                for (what, sign, sample, total) in [("added", "+", tab.addedSample, tab.rows.added), ("removed", "-", tab.removedSample, tab.rows.removed)] where !sample.isEmpty {
                    out.append("    " + sampleTitle(what, shown: sample.count, of: total) + ":")
                    out += sample.map { "      \(sign) " + pairs($0, key: tab.rows.key, order: order, v) }
                }
            }
            out += (t.warnings ?? []).map { "    warning: \(visible($0))" }
        }
        for (title, ms) in [("metrics", r.metrics), ("params", r.params)] where !ms.isEmpty {
            let rows = metricRows(ms, v)
            if !rows.isEmpty {
                out.append(title + ":")
                out += align([metricHeader] + rows, indent: "  ")
            }
            if let n = unchangedNote(ms, title == "metrics" ? "metric" : "param") { out.append((rows.isEmpty ? "\(title): " : "  ") + n) }
        }
        for g in gates {
            out.append(g.fired ? paint(visible(gateLine(g)), "31") : visible(gateLine(g)))
        }
        return out.joined(separator: "\n") + "\n"
    }

    static func align(_ rows: [[String]], indent: String) -> [String] {
        guard let first = rows.first else { return [] }
        var widths = [Int](repeating: 0, count: first.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        return rows.map { r in indent + r.enumerated().map { pad($0.element, widths[$0.offset]) }.joined(separator: "  ") }
    }
}
