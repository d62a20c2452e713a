import Foundation
import MLVCore

/// Text and markdown renderings of a diff report (JSON is the report itself).
enum DiffRender {
    static func arrow(_ d: Double?) -> String {
        guard let d, d != 0 else { return " " }
        return d > 0 ? "▲" : "▼"
    }

    static func num(_ d: Double?) -> String { d.map(formatNumber) ?? "" }

    static func pct(_ d: Double?) -> String {
        guard let d else { return "" }
        return String(format: "%+.2f%%", d * 100)
    }

    static func symbol(_ change: String) -> String {
        switch change {
        case "added": return "+"
        case "removed": return "-"
        case "renamed": return ">"
        default: return "~"
        }
    }

    static func size(_ t: TargetDiff) -> String {
        switch (t.oldSize, t.newSize) {
        case let (a?, b?): return "\(bytes(a)) → \(bytes(b))"
        case let (nil, b?): return bytes(b)
        case let (a?, nil): return bytes(a)
        default: return ""
        }
    }

    static func tableLines(_ tab: TableDiff, md: Bool) -> [String] {
        var out: [String] = []
        let r = tab.rows
        let how = r.keyed ? "by key \(r.key.joined(separator: ","))" : "as a multiset (no --key)"
        out.append("rows \(grouped(UInt64(r.old))) → \(grouped(UInt64(r.new))): +\(r.added) added, -\(r.removed) removed" +
                   (r.keyed ? ", ~\(r.modified) modified (\(tab.cellsChanged) cells)" : "") + ", compared \(how)")
        if r.duplicateKeysOld + r.duplicateKeysNew > 0 {
            out.append("duplicate keys: \(r.duplicateKeysOld) old, \(r.duplicateKeysNew) new")
        }
        let c = tab.columns
        if !c.added.isEmpty { out.append("columns added: \(c.added.joined(separator: ", "))") }
        if !c.removed.isEmpty { out.append("columns removed: \(c.removed.joined(separator: ", "))") }
        for t in c.typeChanged { out.append("column \(t.column): type \(t.old.rawValue) → \(t.new.rawValue)") }
        if c.reordered { out.append("columns reordered") }
        return out
    }

    static func statsRows(_ tab: TableDiff) -> [[String]] {
        tab.stats.map { s in
            let o = s.old, n = s.new
            return [s.column + (s.drifted ? " !" : ""), n?.type.rawValue ?? o?.type.rawValue ?? "",
                    "\(o?.count ?? 0) → \(n?.count ?? 0)", "\(o?.nulls ?? 0) → \(n?.nulls ?? 0)",
                    "\(distinct(o)) → \(distinct(n))",
                    "\(num(o?.mean)) → \(num(n?.mean))", "\(num(o?.std)) → \(num(n?.std))",
                    "\(o?.min ?? "") → \(n?.min ?? "")", "\(o?.max ?? "") → \(n?.max ?? "")",
                    "\(num(o?.median)) → \(num(n?.median))", s.drift.map { String(format: "%.3f", $0) } ?? ""]
        }
    }
    /// An exact distinct count, or an estimate marked ≈ (`distinct_exact` false in JSON).
    static func distinct(_ s: ColumnStats?) -> String {
        guard let s else { return "0" }
        return s.distinctExact ? "\(s.distinct)" : "≈\(s.distinct)"
    }

    static let statsHeader = ["column", "type", "count", "nulls", "distinct", "mean", "std", "min", "max", "median", "drift"]

    static func metricRows(_ ms: [MetricChange]) -> [[String]] {
        ms.filter { $0.old != $0.new }.map { m in
            [m.key, m.old?.description ?? "—", m.new?.description ?? "—",
             m.delta.map { "\(arrow($0)) \(formatNumber($0))" } ?? "", pct(m.relative)]
        }
    }

    static func align(_ rows: [[String]], indent: String) -> [String] {
        guard let first = rows.first else { return [] }
        var widths = [Int](repeating: 0, count: first.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        return rows.map { r in indent + r.enumerated().map { pad($0.element, widths[$0.offset]) }.joined(separator: "  ") }
    }

    static func featureLines(_ t: TargetDiff) -> [String] {
        guard let f = t.features else { return [] }
        var out = f.changes.map { c -> String in
            switch c.change {
            case "modified": return "~ \(c.scope) \(c.name): \(c.field ?? "") \(c.old ?? "—") → \(c.new ?? "—")"
            case "renamed": return "> \(c.scope) \(c.name) (renamed from \(c.old ?? ""))"
            default: return "\(symbol(c.change)) \(c.scope) \(c.name)" + ((c.new ?? c.old).map { ": \($0)" } ?? "")
            }
        }
        if !f.modelsToRetrain.isEmpty { out.append("models to retrain: \(f.modelsToRetrain.joined(separator: ", "))") }
        return out
    }

    static func tensorLines(_ t: TargetDiff) -> [String] {
        guard let d = t.tensors else { return [] }
        var out = ["parameters \(grouped(UInt64(d.parametersOld))) → \(grouped(UInt64(d.parametersNew)))"]
        for c in d.tensors {
            switch c.change {
            case "modified": out.append("~ \(c.name)" + (c.relativeL2.map { String(format: "  relative L2 change %.4g", $0) } ?? ""))
            case "reshaped": out.append("~ \(c.name) shape \(c.oldShape ?? []) → \(c.newShape ?? [])")
            case "retyped": out.append("~ \(c.name) dtype \(c.oldDtype ?? "") → \(c.newDtype ?? "")")
            default: out.append("\(symbol(c.change)) \(c.name) \((c.newShape ?? c.oldShape) ?? []) \((c.newDtype ?? c.oldDtype) ?? "")")
            }
        }
        return out
    }

    static func text(_ r: DiffReport, _ gates: [GateResult], color: Bool) -> String {
        func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
        var out = ["diff \(r.from) → \(r.to)"]
        if !r.hasChanges { out.append("no changes in tracked data, metrics or params") }
        for t in r.targets {
            let c = t.change == "added" ? "32" : (t.change == "removed" ? "31" : "33")
            out.append(paint("\(symbol(t.change)) \(t.path)", c) + "  (\(t.kind.rawValue), \(size(t)))")
            for w in t.warnings ?? [] { out.append("    warning: \(w)") }
            for f in t.files {
                out.append("    \(symbol(f.change)) \(f.path)" + (f.from.map { " (from \($0))" } ?? ""))
            }
            if let b = t.binary {
                out.append("    \(String(format: "%.0f%%", b.reusedShare * 100)) of the bytes unchanged (\(bytes(b.newBytes)) new)")
            }
            out += featureLines(t).map { "    " + $0 }
            out += tensorLines(t).map { "    " + $0 }
            for (name, tab) in ([(t.path, t.table)] + t.tables.sorted { $0.key < $1.key }.map { ($0.key, Optional($0.value)) }) {
                guard let tab else { continue }
                if name != t.path { out.append("    \(name):") }
                out += tableLines(tab, md: false).map { "    " + $0 }
                out += align([statsHeader] + statsRows(tab), indent: "      ")
                for m in tab.modifiedRows {
                    let key = m.key.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                    out.append("    ~ row \(key) (line \(m.line)): " + m.cells.map { "\($0.column): \($0.old) → \($0.new)" }.joined(separator: "; "))
                }
            }
        }
        for (title, ms) in [("metrics", r.metrics), ("params", r.params)] where ms.contains(where: { $0.old != $0.new }) {
            out.append(title + ":")
            out += align([["key", "old", "new", "delta", "relative"]] + metricRows(ms), indent: "  ")
        }
        for g in gates where g.fired {
            out.append(paint("gate fired: \(g.expression) (value \(num(g.value)))", "31"))
        }
        return out.joined(separator: "\n") + "\n"
    }

    static func markdown(_ r: DiffReport, _ gates: [GateResult]) -> String {
        func row(_ cells: [String]) -> String { "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |" }
        var out = ["### mlv diff `\(r.from)` → `\(r.to)`", ""]
        for g in gates where g.fired { out.append("> **Gate fired:** `\(g.expression)` (value \(num(g.value)))") }
        if !r.hasChanges { out.append("No changes in tracked data, metrics or params."); return out.joined(separator: "\n") + "\n" }
        out.append(row(["", "target", "kind", "size", "summary"]))
        out.append("|---|---|---|---|---|")
        for t in r.targets {
            var summary = ""
            if let tab = t.table { summary = "+\(tab.rows.added) / -\(tab.rows.removed) / ~\(tab.rows.modified) rows" + (tab.maxDrift.map { String(format: ", max drift %.3f", $0) } ?? "") }
            else if !t.files.isEmpty { summary = "\(t.files.count) files changed" }
            else if let f = t.features { summary = "\(f.changes.count) definition changes" + (f.modelsToRetrain.isEmpty ? "" : "; retrain \(f.modelsToRetrain.joined(separator: ", "))") }
            else if let b = t.binary { summary = String(format: "%.0f%% of bytes unchanged", b.reusedShare * 100) + (t.tensors.map { ", \($0.tensors.count) tensors changed" } ?? "") }
            out.append(row([symbol(t.change), "`\(t.path)`", t.kind.rawValue, size(t), summary]))
        }
        let warnings = r.targets.flatMap { t in (t.warnings ?? []).map { (t.path, $0) } }
        if !warnings.isEmpty {
            out.append("")
            for (p, w) in warnings { out.append("> **Warning** `\(p)`: \(w.replacingOccurrences(of: "<", with: "&lt;"))") }
        }
        let ms = metricRows(r.metrics) + metricRows(r.params)
        if !ms.isEmpty {
            out += ["", row(["metric", "old", "new", "delta", "relative"]), "|---|---:|---:|---:|---:|"]
            out += ms.map(row)
        }
        for t in r.targets where t.table != nil || !t.files.isEmpty || !t.tables.isEmpty || t.features != nil || t.tensors != nil {
            out += ["", "<details><summary><code>\(t.path)</code></summary>", ""]
            out += (featureLines(t) + tensorLines(t)).map { "- " + $0.replacingOccurrences(of: "|", with: "\\|") }
            for f in t.files { out.append("- \(symbol(f.change)) `\(f.path)`" + (f.from.map { " (from `\($0)`)" } ?? "")) }
            for (name, tab) in ([(t.path, t.table)] + t.tables.sorted { $0.key < $1.key }.map { ($0.key, Optional($0.value)) }) {
                guard let tab else { continue }
                if name != t.path { out += ["", "**\(name)**"] }
                out += [""] + tableLines(tab, md: true).map { "- " + $0 }
                out += ["", row(statsHeader), "|" + String(repeating: "---|", count: statsHeader.count)]
                out += statsRows(tab).map(row)
                if !tab.modifiedRows.isEmpty {
                    out += ["", row(["key", "column", "old", "new"]), "|---|---|---|---|"]
                    for m in tab.modifiedRows {
                        let key = m.key.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                        for c in m.cells { out.append(row([key, c.column, c.old, c.new])) }
                    }
                }
            }
            out += ["", "</details>"]
        }
        return out.joined(separator: "\n") + "\n"
    }
}
