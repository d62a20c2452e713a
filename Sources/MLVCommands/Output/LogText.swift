// `mlv log` for people: git's layout, then each target the commit changed with its size and shape.
import MLVCore

enum LogText {
    /// The whole text (the caller pages it, as git does).
    static func render(_ entries: [LogCommit]) -> String {
        var out = ""
        func emit(_ s: String = "") { out += s + "\n" }
        for e in entries {
            emit("commit \(e.commit)")
            emit("Author: \(e.author)")
            emit("Date:   \(e.date)")
            emit("    \(e.message)")
            for c in e.changes {
                var line = "    \(c.change) \(c.path) (\(c.kind.rawValue))"
                if let s = c.snapshot {
                    line += ": snapshot \(s.prefix(12)), \(bytes(c.size))"
                    if c.files != 1 { line += ", \(grouped(c.files)) files" }
                    if let r = c.rows, let col = c.columns { line += ", \(grouped(r)) \(noun(r, "row")) × \(counted(col, "column"))" }
                }
                emit(line)
            }
            emit()
        }
        return out
    }
}
