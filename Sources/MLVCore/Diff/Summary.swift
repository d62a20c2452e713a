import MLVSystem
import MLVStore

extension Workspace {
    /// A text summary of a pointer's data for `git diff` (textconv): the pointer's fields,
    /// then, when the data is in the local store, a table's columns with their statistics or a
    /// folder's file list. Lines are stable so that git's line diff shows what moved.
    public func summarize(pointerBytes: [UInt8], name: String, offline: Bool = false) throws -> String {
        let p = try Pointer(parsing: pointerBytes, path: name)
        var out = ["mlv \(p.kind.rawValue) (\(p.type.rawValue))"]
        guard let id = p.snapshot else { return (out + ["not committed yet"]).joined(separator: "\n") + "\n" }
        out.append("snapshot \(id.hex)")
        out.append("size \(counted(p.size, "byte")), \(counted(p.files, "file"))")
        if let r = p.rows, let c = p.columns { out.append("\(counted(r, "row")) x \(counted(c, "column"))") }
        let store = try store()
        if let why = try fetchForSummary(p, id: id, name: name, offline: offline) {
            out.append("(no content summary: \(why))")
            return out.joined(separator: "\n") + "\n"
        }
        let target = String(name.hasSuffix(Pointer.suffix) ? name.dropLast(Pointer.suffix.count) : Substring(name))
        switch p.type {
        case .file:
            if let fmt = TableFormat(path: target) {
                do {
                    let r: RowSource
                    switch fmt {
                    case .delimited(let sep): r = try TableReader(stream: StoredFileStream(store: store, manifest: id), name: target, separator: sep, detectHeaderless: true)
                    case .jsonLines: r = try JSONLinesReader(open: { try StoredFileStream(store: store, manifest: id) }, name: target)
                    }
                    let pool = DistinctPool(spillDirectory: store.tmpDir)
                    // The summary shows no median: no memory for exact ones.
                    var profiles = ColumnProfile.columns(r.header.count, pool: pool, medians: MedianPool(budget: 0))
                    while try r.next() { for i in 0..<r.header.count { profiles[i].add(r.field(i)) } }
                    for (i, (name, prof)) in zip(columnLabels(r.header), profiles).enumerated() {
                        let s = try prof.stats(index: i)
                        var line = "column \(name): \(s.type.rawValue), \(counted(s.count, "value")), \(counted(s.nulls, "null")), \(s.distinctExact ? "" : "≈")\(s.distinct) distinct"
                        if let m = s.mean { line += ", mean \(formatNumber(m))" }
                        if let lo = s.min, let hi = s.max { line += ", range \(lo) .. \(hi)" }
                        out.append(line)
                    }
                } catch let e as DiffError where e.isUncomparableTable {
                    // Past `TableLimits` or not parsing: the pointer's fields above are the summary.
                    out.append("(no column summary: \(e))")
                }
            }
        case .dir:
            var lines: [String] = []
            // Iterative, totals and nesting checked as it goes (TreeWalker).
            var w = TreeWalker(store: store, root: TreeEntry(name: target, kind: .directory, size: p.size, files: p.files, id: id),
                               path: "", target: target)
            while lines.count < 10_000, let item = try w.next() {
                let e = item.entry, rel = item.path.dropFirst()   // paths below the root start with "/"
                switch e.kind {
                case .file: lines.append("file \(rel) \(counted(e.size, "byte")) \(e.id.short)")
                case .symlink: lines.append("link \(rel)")
                case .directory: continue
                }
            }
            out += lines
        }
        return out.joined(separator: "\n") + "\n"
    }
}
