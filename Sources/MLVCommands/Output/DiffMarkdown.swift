// The markdown form of a diff report (`--format md`): a pull-request comment within GitHub's limit.
import Foundation
import MLVCore

/// The markdown report: a pull-request comment. GitHub refuses a comment over 65,536
/// characters, so the report is written against a budget (`MarkdownBudget.limit`, in UTF-8
/// bytes, which are never fewer than characters or UTF-16 units): what does not fit is
/// counted in a note that points to the full report (the same command with `--format html`).
extension DiffRender {
    /// Values from the data are escaped so that they render as themselves: a cell `<b>x</b>`
    /// shows its tags, `|` does not split the row, `*`, `_`, `#`, `[`… start nothing. CommonMark
    /// lets a backslash escape any ASCII punctuation; these are the ones GitHub's markdown
    /// (tables, strikethrough, math) gives a meaning to inline.
    static let markdownSpecial: Set<Character> = ["\\", "`", "*", "_", "[", "]", "<", ">", "&", "|", "#", "~", "$", "!"]

    static func mdEscape(_ s: String) -> String {
        var out = ""
        for ch in s {
            if markdownSpecial.contains(ch) { out.append("\\") }
            out.append(ch)
        }
        return out
    }

    /// A code span holding `s` whatever backticks it contains (CommonMark: a fence longer than
    /// any run inside, padded with spaces when `s` starts or ends with a backtick). Not for
    /// table cells, where `|` would still split the row.
    static func mdCode(_ s: String) -> String {
        let v = visible(s)
        var longest = 0, run = 0
        for ch in v { run = ch == "`" ? run + 1 : 0; longest = max(longest, run) }
        let fence = String(repeating: "`", count: longest + 1)
        let pad = v.hasPrefix("`") || v.hasSuffix("`") ? " " : ""
        return fence + pad + v + pad + fence
    }

    /// A list item's text: a leading `-`, `+` or `>` (a removed file's symbol) would start a
    /// nested list or a quote.
    static func mdItem(_ s: String) -> String {
        guard let c = s.first, "-+>".contains(c) else { return s }
        return "\\" + s
    }

    /// A path in markdown: escaped, and clipped only past 200 characters (it names a file).
    static func mdPath(_ s: String) -> String { mdEscape(clip(s, 200)) }

    static func mdRow(_ cells: [String]) -> String { "| " + cells.joined(separator: " | ") + " |" }

    static func markdown(_ r: DiffReport, _ gates: [GateResult], fullReport: String) -> String {
        let v: Value = { mdEscape(clip($0)) }
        var b = MarkdownBudget(fullReport: mdCode(fullReport))
        b.force(["### mlv diff \(mdCode(clip(r.from, 200))) → \(mdCode(clip(r.to, 200)))"])
        b.list(gates.map { g in
            (g.fired ? "**Gate fired:** " : "Gate not fired: ") + mdCode(clip(g.expression, 200)) +
                " (" + (g.value.map { "value \($0.text)" } ?? "no value") + ")"
        }, noun: "gate")
        if !r.hasChanges { _ = b.add(["", "No changes in tracked data, metrics or params."]) }
        // The summary tables take at most a half (targets) and a third (metrics, params) of
        // the room left, so that a 5,000-key params file leaves room for the data's details.
        func capped(_ share: Int, _ body: (inout MarkdownBudget) -> Void) {
            let end = b.end
            b.end = b.used + (end - b.used) / share
            body(&b)
            b.end = end
        }
        if !r.targets.isEmpty {
            capped(2) { b in b.table([mdRow(["", "target", "kind", "size", "summary"]), "|---|---|---|---|---|"],
                    r.targets.map { t in mdRow([symbol(t.change), mdPath(t.path), t.kind.rawValue, size(t), summary(t, v)]) }, noun: "target") }
        }
        for (title, ms) in [("metric", r.metrics), ("param", r.params)] {
            capped(3) { b in b.table([mdRow(metricHeader.map { $0 == "key" ? title : $0 }), "|---|---|---:|---:|---:|---:|"],
                                     metricRows(ms, v).map(mdRow), noun: "changed \(title)") }
            if let n = unchangedNote(ms, title) { _ = b.add(["", n]) }
        }
        // Each target's details get an equal share of what is left (a 300-column table does
        // not crowd out the targets after it).
        let detailed = r.targets.filter { !tables($0).isEmpty || !$0.files.isEmpty || hasDetails($0) || !($0.warnings ?? []).isEmpty }
        for (i, t) in detailed.enumerated() {
            let left = MarkdownBudget.limit - MarkdownBudget.finalReserve - b.used
            guard left / (detailed.count - i) >= MarkdownBudget.minSection else {
                b.omitted.append(.init(count: detailed.count - i, noun: "target's details", plural: "targets' details"))
                break
            }
            // A summary is HTML, where markdown escapes do not apply.
            b.section(end: b.used + left / (detailed.count - i),
                      open: ["", "<details><summary><code>\(esc(clip(t.path, 200)))</code></summary>", ""]) { b in details(t, &b, v) }
        }
        if b.cut {
            let what = b.omitted.isEmpty ? "" : " Not shown here: \(MarkdownBudget.describe(b.omitted))."
            b.force(["", "_Shortened to fit a pull-request comment.\(what) The full report: \(b.fullReport) (or `--format json`)._"])
        }
        return b.lines.joined(separator: "\n") + "\n"
    }

    /// The summary column of the targets table.
    static func summary(_ t: TargetDiff, _ v: Value) -> String {
        if let tab = t.table {
            return "rows +\(grouped(UInt64(tab.rows.added))) / -\(grouped(UInt64(tab.rows.removed))) / ~\(grouped(UInt64(tab.rows.modified)))" +
                (tab.maxDrift.map { String(format: ", max drift %.3f", $0) } ?? "")
        }
        if !t.files.isEmpty { return "\(counted(t.files.count, "file")) changed" }
        if let f = t.features {
            return counted(f.changes.count, "definition change") +
                (f.modelsToRetrain.isEmpty ? "" : "; retrain \(f.modelsToRetrain.map(v).joined(separator: ", "))")
        }
        if let b = t.binary {
            return binaryLine(b) + (t.tensors.map { ", \(counted($0.tensors.count, "tensor")) changed" } ?? "")
        }
        return ""
    }

    /// The inside of one target's `<details>` block.
    static func details(_ t: TargetDiff, _ b: inout MarkdownBudget, _ v: Value) {
        b.list((t.warnings ?? []).map { "warning: " + mdEscape(visible($0)) }, noun: "warning")
        b.list((detailLines(t, v) + (t.binary.map { [binaryLine($0)] } ?? [])).map(mdItem), noun: "line")
        b.list(fileLines(t, mdPath).map(mdItem), noun: "file")
        for (name, tab) in tables(t) {
            if name != t.path { guard b.add(["", "**\(mdPath(name))**"]) else { break } }
            b.list(tableLines(tab, v, sentence: { mdEscape(visible($0)) }), noun: "line")
            // The statistics take at most 3/5 of the room left, so that the row samples show too.
            let end = b.end
            b.end = b.used + (end - b.used) * 3 / 5
            b.table([mdRow(statsHeader), "|" + String(repeating: "---|", count: statsHeader.count)],
                    statsRows(tab, v).map(mdRow), noun: "column")
            b.end = end
            let order = columnOrder(tab)
            // One table row per record, its cells cut to what the budget leaves.
            func room() -> Int { max(200, min(4_000, b.end - b.used - 200)) }
            b.table([mdRow([sampleTitle("modified", shown: tab.modifiedRows.count, of: tab.rows.modified), "line", "changed cells"]), "|---|---:|---|"],
                    tab.modifiedRows.map { m in mdRow([keyText(m, tab, v), String(m.line), cellChanges(m, order, v, limit: room())]) },
                    noun: "modified row")
            for (what, sign, sample, total) in [("added", "+", tab.addedSample, tab.rows.added), ("removed", "-", tab.removedSample, tab.rows.removed)] {
                b.table([mdRow(["", sampleTitle(what, shown: sample.count, of: total)]), "|---|---|"],
                        sample.map { mdRow([sign, pairs($0, key: tab.rows.key, order: order, v, limit: room())]) },
                        noun: "\(what) row")
            }
        }
    }
}

/// Lines written against the size limit. `end` is where the current part must stop; lines
/// that must close what was opened (`</details>`, the notes) are forced into the reserves
/// kept beyond every `end`.
struct MarkdownBudget {
    /// Under GitHub's 65,536-character comment limit with room to spare (a bot's header).
    static let limit = 60_000
    /// Kept for the final note (which quotes the full command, at most 300 bytes: `fullReportCommand`).
    static let finalReserve = 1_000
    /// Kept at the end of each target's share for its note of what it left out and `</details>`.
    static let sectionReserve = 800
    /// A target's share below which its details are left out (one line each would not help).
    static let minSection = 1_000

    struct Omitted { var count: Int; var noun: String; var plural: String? = nil }

    /// The command that prints the full report, as a code span.
    let fullReport: String
    var lines: [String] = []
    var used = 0
    var end = MarkdownBudget.limit - MarkdownBudget.finalReserve
    /// What the current part left out, for its note.
    var omitted: [Omitted] = []
    var cut = false

    mutating func force(_ ls: [String]) {
        for l in ls { lines.append(l); used += l.utf8.count + 1 }
    }

    mutating func add(_ ls: [String]) -> Bool {
        guard used + ls.reduce(0, { $0 + $1.utf8.count + 1 }) <= end else { cut = true; return false }
        force(ls)
        return true
    }

    /// A list, one item a line; what does not fit is counted.
    mutating func list(_ items: [String], noun: String) {
        guard !items.isEmpty, add([""]) else { if !items.isEmpty { omitted.append(.init(count: items.count, noun: noun)) }; return }
        for (i, item) in items.enumerated() where !add(["- " + item]) {
            omitted.append(.init(count: items.count - i, noun: i == 0 ? noun : "more " + noun))
            return
        }
    }

    /// A table (a blank line, the header lines, the rows); what does not fit is counted.
    mutating func table(_ header: [String], _ rows: [String], noun: String) {
        guard let first = rows.first else { return }
        guard add([""] + header + [first]) else { omitted.append(.init(count: rows.count, noun: noun)); return }
        for (i, row) in rows.enumerated().dropFirst() where !add([row]) {
            omitted.append(.init(count: rows.count - i, noun: "more " + noun))
            return
        }
    }

    /// A target's details within `end`: opened with `open` when that fits (else counted as
    /// left out), then closed whatever happened, with a note of what was left out.
    mutating func section(end sectionEnd: Int, open: [String], _ body: (inout MarkdownBudget) -> Void) {
        let (outerEnd, outerOmitted) = (end, omitted)
        end = sectionEnd - MarkdownBudget.sectionReserve
        guard add(open) else {
            end = outerEnd
            omitted.append(.init(count: 1, noun: "target's details", plural: "targets' details"))
            return
        }
        omitted = []
        body(&self)
        if !omitted.isEmpty {
            force(["", "… not shown here: \(MarkdownBudget.describe(omitted)); see the full report (\(fullReport))."])
        }
        force(["", "</details>"])
        (end, omitted) = (outerEnd, outerOmitted)
    }

    /// "240 more columns, 3 added rows": counts summed per noun, in first-seen order.
    static func describe(_ items: [Omitted]) -> String {
        var order: [String] = [], sums: [String: (Int, Omitted)] = [:]
        for o in items {
            if sums[o.noun] == nil { order.append(o.noun); sums[o.noun] = (0, o) }
            sums[o.noun]!.0 += o.count
        }
        return order.map { n in
            let (c, o) = sums[n]!
            return "\(grouped(UInt64(c))) \(noun(c, o.noun, o.plural))"
        }.joined(separator: ", ")
    }
}
