// The text `mlv diff-driver` gives git's textconv: one fact per line, in a stable order, so
// that git's line diff of two summaries shows what changed in the data.
import MLVCore

enum DiffDriverText {
    static func render(_ s: PointerSummary) -> String {
        let p = s.pointer
        var out = ["mlv \(p.kind.rawValue) (\(p.type.rawValue))"]
        guard let id = p.snapshot else { return (out + ["not committed yet"]).joined(separator: "\n") + "\n" }
        out.append("snapshot \(id.hex)")
        out.append("size \(counted(p.size, "byte")), \(counted(p.files, "file"))")
        if let r = p.rows, let c = p.columns { out.append("\(counted(r, "row")) x \(counted(c, "column"))") }
        if let why = s.unavailable {
            out.append("(no content summary: \(why))")
            return out.joined(separator: "\n") + "\n"
        }
        for (name, st) in s.columns {
            var line = "column \(name): \(st.type.rawValue), \(counted(st.count, "value")), \(counted(st.nulls, "null")), \(st.distinctExact ? "" : "≈")\(st.distinct) distinct"
            if let m = st.mean { line += ", mean \(formatNumber(m))" }
            if let lo = st.min, let hi = st.max { line += ", range \(lo) .. \(hi)" }
            out.append(line)
        }
        if let why = s.columnsUnavailable { out.append("(no column summary: \(why))") }
        for e in s.entries {
            switch e {
            case .file(let path, let size, let id): out.append("file \(path) \(counted(size, "byte")) \(id)")
            case .link(let path): out.append("link \(path)")
            }
        }
        return out.joined(separator: "\n") + "\n"
    }
}
