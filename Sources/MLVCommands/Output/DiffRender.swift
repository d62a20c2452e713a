// The pieces of a diff report every format shows (the formats: DiffText, DiffMarkdown,
// DiffHTML, DiffJSON in this folder).
import Foundation
import MLVCore

/// The renderings of a diff report. Every format shows the same facts: the pieces below are
/// shared, and each format only lays them out. A piece takes `v`, the format's rendering of one value from the
/// data (a cell, a column or file name): text clips it, markdown clips and escapes it, HTML
/// keeps it whole and escapes it at the tag.
enum DiffRender {
    typealias Value = (String) -> String

    /// Characters of one value that text and markdown show; a longer value ends in "…"
    /// (JSON and HTML keep it whole). Long enough for a sentence, short enough that a row
    /// of cells still reads as one.
    static let valueLimit = 80

    static func arrow(_ d: Double?) -> String {
        guard let d, d != 0, !d.isNaN else { return " " }
        return d > 0 ? "▲" : "▼"
    }

    static func num(_ d: Double?) -> String { d.map(formatNumber) ?? "" }

    static func pct(_ d: Double?) -> String {
        guard let d else { return "" }
        guard d.isFinite else { return ExactNumber.shortest(d) }
        return percent(d, places: 2, sign: true)
    }

    /// `d` as a percentage with `places` decimals, or more where those would round a change
    /// to none ("+0.00%" for a relative change of 1e-6) or a part to the whole ("100%" of the
    /// chunks reused when some are new).
    static func percent(_ d: Double, places: Int, sign: Bool) -> String {
        let v = d * 100
        func shown(_ p: Int) -> String { String(format: sign ? "%+.\(p)f%%" : "%.\(p)f%%", v) }
        guard v.isFinite else { return shown(places) }
        for p in places...12 {
            let s = shown(p)
            let back = Double(s.dropLast().replacingOccurrences(of: "+", with: "")) ?? v
            if (back == 0 && v != 0) || (abs(back) == 100 && abs(v) != 100) { continue }
            return s
        }
        return shown(12)
    }

    /// The one-character marks of every format: + added, - removed, > renamed, ~ changed.
    static func symbol(_ change: ChangeKind) -> String {
        switch change {
        case .added: return "+"
        case .removed: return "-"
        case .modified: return "~"
        }
    }

    static func symbol(_ change: EntryChangeKind) -> String {
        switch change {
        case .added: return "+"
        case .removed: return "-"
        case .renamed: return ">"
        case .modified: return "~"
        }
    }

    static func symbol(_ change: TensorChange.Kind) -> String {
        switch change {
        case .added: return "+"
        case .removed: return "-"
        case .reshaped, .retyped, .modified: return "~"
        }
    }

    static func sizes(_ old: UInt64?, _ new: UInt64?) -> String {
        switch (old, new) {
        case let (a?, b?): return "\(bytes(a)) → \(bytes(b))"
        case let (nil, b?): return bytes(b)
        case let (a?, nil): return bytes(a)
        default: return ""
        }
    }

    /// Bytes, and for a table added or removed its rows × columns.
    static func size(_ t: TargetDiff) -> String {
        sizes(t.oldSize, t.newSize) + (t.shape.map { ", \(grouped($0.rows)) \(noun($0.rows, "row")) × \(counted($0.columns, "column"))" } ?? "")
    }

    // MARK: Values

    /// Control characters (a newline inside a quoted CSV field, an escape sequence) shown as
    /// `\n`, `\r`, `\t`, `\u{1b}`: a value stays on its line, and nothing reaches the
    /// terminal as a command.
    static func visible(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: isControl) else { return s }
        var out = ""
        for ch in s.unicodeScalars {
            switch ch {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where isControl(ch): out += "\\u{\(String(ch.value, radix: 16))}"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    static func isControl(_ c: Unicode.Scalar) -> Bool { c.value < 0x20 || (0x7F...0x9F).contains(c.value) }

    /// A value for text and markdown: visible, and cut to `limit` characters with "…".
    static func clip(_ s: String, _ limit: Int = valueLimit) -> String {
        let v = visible(s)
        guard v.count > limit else { return v }
        return String(v.prefix(limit - 1)) + "…"
    }

    // MARK: Pieces every format shows

    /// The table's summary sentences: rows, duplicate keys, schema changes. `v` shows a value
    /// (clipped in text and md), `sentence` one of mlv's notes (never clipped: it names the fix).
    static func tableLines(_ tab: TableDiff, _ v: Value, sentence: Value = visible) -> [String] {
        var out: [String] = []
        let r = tab.rows
        let notes = tab.notes ?? []
        let how = r.keyed ? "by key \(r.key.map(v).joined(separator: ","))" : (notes.isEmpty ? "as a multiset (no --key)" : "as a multiset")
        out.append("rows \(grouped(UInt64(r.old))) → \(grouped(UInt64(r.new))): +\(grouped(UInt64(r.added))) added, -\(grouped(UInt64(r.removed))) removed" +
                   (r.keyed ? ", ~\(grouped(UInt64(r.modified))) modified (\(grouped(UInt64(tab.cellsChanged))) \(noun(tab.cellsChanged, "cell")))" : "") +
                   ", compared \(how)")
        out += notes.map { "note: " + sentence($0) }
        if r.duplicateKeysOld + r.duplicateKeysNew > 0 {
            out.append("duplicate keys: \(r.duplicateKeysOld) old, \(r.duplicateKeysNew) new")
        }
        let c = tab.columns
        if !c.added.isEmpty { out.append("\(noun(c.added.count, "column")) added: \(c.added.map(v).joined(separator: ", "))") }
        if !c.removed.isEmpty { out.append("\(noun(c.removed.count, "column")) removed: \(c.removed.map(v).joined(separator: ", "))") }
        for t in c.typeChanged { out.append("column \(v(t.column)): type \(t.old.rawValue) → \(t.new.rawValue)") }
        if c.reordered { out.append("columns reordered") }
        if let d = tab.maxDrift { out.append(String(format: "max drift %.3f", d)) }
        return out
    }

    static let statsHeader = ["column", "type", "count", "nulls", "distinct", "mean", "std", "min", "max", "median", "drift"]

    static func statsRows(_ tab: TableDiff, _ v: Value) -> [[String]] {
        tab.stats.map { s in
            let o = s.old, n = s.new
            let type = o != nil && n != nil && o?.type != n?.type ? "\(o!.type.rawValue) → \(n!.type.rawValue)"
                                                                  : (n?.type.rawValue ?? o?.type.rawValue ?? "")
            return [v(s.column) + (s.drifted ? " !" : ""), type,
                    // A side without the column (added, removed) shows "—", not a count of 0.
                    "\(o.map { "\($0.count)" } ?? "—") → \(n.map { "\($0.count)" } ?? "—")",
                    "\(o.map { "\($0.nulls)" } ?? "—") → \(n.map { "\($0.nulls)" } ?? "—")",
                    "\(o == nil ? "—" : distinct(o)) → \(n == nil ? "—" : distinct(n))",
                    "\(num(o?.mean)) → \(num(n?.mean))", "\(num(o?.std)) → \(num(n?.std))",
                    "\(o?.min.map(v) ?? "") → \(n?.min.map(v) ?? "")", "\(o?.max.map(v) ?? "") → \(n?.max.map(v) ?? "")",
                    "\(median(o)) → \(median(n))", s.drift.map { String(format: "%.3f", $0) } ?? ""]
        }
    }
    /// An exact distinct count, or an estimate marked ≈ (`distinct_exact` false in JSON).
    static func distinct(_ s: ColumnStats?) -> String {
        guard let s else { return "0" }
        return s.distinctExact ? "\(s.distinct)" : "≈\(s.distinct)"
    }

    /// An exact median, or the estimate from a sample marked ≈ (`median_exact` false in JSON).
    static func median(_ s: ColumnStats?) -> String {
        guard let m = s?.median else { return "" }
        // A value of the column (or the midpoint of two), so in full like min and max; a
        // sampled estimate is rounded as the computed figures (mean, std) are.
        return s?.medianExact == false ? "≈" + num(m) : ExactNumber.shortest(m)
    }

    static let metricHeader = ["file", "key", "old", "new", "delta", "relative"]

    /// Changed metrics or params; unchanged ones are counted by `unchangedNote`.
    static func metricRows(_ ms: [MetricChange], _ v: Value) -> [[String]] {
        ms.filter { $0.old != $0.new }.map { m in
            [v(m.file), v(m.key), m.old.map { v($0.description) } ?? "—", m.new.map { v($0.description) } ?? "—",
             m.delta.map { "\(arrow($0)) \(formatNumber($0))" } ?? "", pct(m.relative)]
        }
    }

    static func unchangedNote(_ ms: [MetricChange], _ what: String) -> String? {
        let n = ms.filter { $0.old == $0.new }.count
        return n == 0 ? nil : "\(counted(n, "unchanged \(what)")) not shown (`--format json` lists them)"
    }

    /// A folder's changed files. `p` renders a path: an identifier, never clipped in text.
    static func fileLines(_ t: TargetDiff, _ p: Value) -> [String] {
        t.files.map { f in
            "\(symbol(f.change)) \(p(f.path))" + (f.from.map { " (from \(p($0)))" } ?? "") +
                (f.oldSize == nil && f.newSize == nil ? "" : " (\(sizes(f.oldSize, f.newSize)))")
        }
    }

    /// Chunk reuse, said as such: it is not a count of unchanged bytes (a one-chunk file
    /// reuses nothing after a one-byte edit), so the line never calls it that.
    static func binaryLine(_ b: BinaryDiff) -> String {
        let total = b.reusedBytes + b.newBytes
        var s = "stored chunks reused: \(bytes(b.reusedBytes)) of \(bytes(total)) (\(percent(b.reusedShare, places: 0, sign: false)))"
        if b.chunks == 1 && b.reusedChunks == 0 {
            s += "; the file is one chunk, so any edit stores it anew"
        } else {
            s += ", \(b.reusedChunks) of \(counted(b.chunks, "chunk")); \(bytes(b.newBytes)) new"
        }
        return s
    }

    /// The lines of a target's content comparison beyond tables, files and chunk reuse: feature
    /// definitions, tensors. Text, markdown and HTML all show these; a new format's comparison
    /// adds its lines here, and its field to `hasDetails`, once for every format.
    static func detailLines(_ t: TargetDiff, _ v: Value) -> [String] {
        featureLines(t, v) + tensorLines(t, v)
    }

    /// True when the target carries a comparison result `detailLines` shows.
    static func hasDetails(_ t: TargetDiff) -> Bool { t.features != nil || t.tensors != nil }

    static func featureLines(_ t: TargetDiff, _ v: Value) -> [String] {
        guard let f = t.features else { return [] }
        var out = f.changes.map { c -> String in
            switch c.change {
            case .modified: return "~ \(c.scope.rawValue) \(v(c.name)): \(c.field ?? "") \(c.old.map(v) ?? "—") → \(c.new.map(v) ?? "—")"
            case .renamed: return "> \(c.scope.rawValue) \(v(c.name)) (renamed from \(v(c.old ?? "")))"
            case .added, .removed: return "\(symbol(c.change)) \(c.scope.rawValue) \(v(c.name))" + ((c.new ?? c.old).map { ": \(v($0))" } ?? "")
            }
        }
        if !f.modelsToRetrain.isEmpty { out.append("models to retrain: \(f.modelsToRetrain.map(v).joined(separator: ", "))") }
        return out
    }

    static func tensorLines(_ t: TargetDiff, _ v: Value) -> [String] {
        guard let d = t.tensors else { return [] }
        var out = ["parameters \(grouped(UInt64(d.parametersOld))) → \(grouped(UInt64(d.parametersNew)))"]
        for c in d.tensors {
            switch c.change {
            case .modified: out.append("~ \(v(c.name))" + (c.relativeL2.map { String(format: "  relative L2 change %.4g", $0) } ?? ""))
            case .reshaped: out.append("~ \(v(c.name)) shape \(c.oldShape ?? []) → \(c.newShape ?? [])")
            case .retyped: out.append("~ \(v(c.name)) dtype \(c.oldDtype ?? "") → \(c.newDtype ?? "")")
            case .added, .removed: out.append("\(symbol(c.change)) \(v(c.name)) \((c.newShape ?? c.oldShape) ?? []) \((c.newDtype ?? c.oldDtype) ?? "")")
            }
        }
        return out
    }

    /// The target's tables: a dataset's own, then the CSV files changed inside a folder.
    static func tables(_ t: TargetDiff) -> [(name: String, table: TableDiff)] {
        (t.table.map { [(t.path, $0)] } ?? []) + t.tables.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Columns in the table's order (old columns, then added ones), for listing a record.
    static func columnOrder(_ tab: TableDiff) -> [String] {
        var seen = Set<String>()
        return tab.stats.map(\.column).filter { seen.insert($0).inserted }
    }

    /// `col=value` pairs of a record, key columns first, the rest in the table's order, cut
    /// after `limit` characters (markdown's budget) with the number of columns left out.
    /// A cell value as it goes into `name=value, …` and `column: old → new; …`: in double
    /// quotes (a quote inside doubled, as CSV does) when it is empty, has spaces at an end, or
    /// holds a separator (", ", "; ", " → ") or a quote, so that `note="has, comma"` does not
    /// read as two cells.
    static func unambiguous(_ s: String) -> String {
        let plain = !s.isEmpty && s.first?.isWhitespace == false && s.last?.isWhitespace == false &&
            !s.contains("\"") && ![", ", "; ", " → "].contains(where: { s.contains($0) })
        return plain ? s : "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func pairs(_ rec: [String: String], key: [String], order: [String], _ v: Value, limit: Int = .max) -> String {
        var names = key.filter { rec[$0] != nil }
        let keySet = Set(key)
        names += order.filter { rec[$0] != nil && !keySet.contains($0) }
        let listed = Set(names)
        names += rec.keys.filter { !listed.contains($0) }.sorted()
        var out = "", shown = 0
        for n in names {
            let item = "\(v(n))=\(v(unambiguous(rec[n] ?? "")))"
            if shown > 0 && out.utf8.count + item.utf8.count > limit { break }
            out += (shown > 0 ? ", " : "") + item
            shown += 1
        }
        if shown < names.count { out += ", … \(counted(names.count - shown, "more column"))" }
        return out
    }

    static func keyText(_ m: TableDiff.ModifiedRow, _ tab: TableDiff, _ v: Value) -> String {
        let order = tab.rows.key.filter { m.key[$0] != nil } + m.key.keys.filter { !tab.rows.key.contains($0) }.sorted()
        return order.map { "\(v($0))=\(v(unambiguous(m.key[$0] ?? "")))" }.joined(separator: ",")
    }

    /// A modified row's changed cells, in the table's column order.
    static func cellChanges(_ m: TableDiff.ModifiedRow, _ order: [String], _ v: Value, limit: Int = .max, separator: String = "; ") -> String {
        let position = Dictionary(order.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var out = "", shown = 0
        for c in m.cells.sorted(by: { (position[$0.column] ?? .max, $0.column) < (position[$1.column] ?? .max, $1.column) }) {
            let item = "\(v(c.column)): \(v(unambiguous(c.old))) → \(v(unambiguous(c.new)))"
            if shown > 0 && out.utf8.count + item.utf8.count > limit { break }
            out += (shown > 0 ? separator : "") + item
            shown += 1
        }
        if shown < m.cells.count { out += "\(separator)… \(counted(m.cells.count - shown, "more changed cell"))" }
        return out
    }

    /// The headings of the row samples: "added rows (5 of 120 shown)".
    static func sampleTitle(_ what: String, shown: Int, of total: Int) -> String {
        "\(what) rows" + (shown < total ? " (\(shown) of \(grouped(UInt64(total))) shown)" : "")
    }

    static func gateLine(_ g: GateResult) -> String {
        "gate \(g.fired ? "fired" : "not fired"): \(g.expression) (" + (g.value.map { "value \($0.text)" } ?? "no value") + ")"
    }
}
