// `mlv log` for people: git's layout, then each target the commit changed with its size and shape.
import MLVCore

enum LogText {
    static func render(_ entries: [LogCommit]) {
        for e in entries {
            Out.line("commit \(e.commit)")
            Out.line("Author: \(e.author)")
            Out.line("Date:   \(e.date)")
            Out.line("    \(e.message)")
            for c in e.changes {
                var line = "    \(c.change) \(c.path) (\(c.kind.rawValue))"
                if let s = c.snapshot {
                    line += ": snapshot \(s.prefix(12)), \(bytes(c.size))"
                    if c.files != 1 { line += ", \(grouped(c.files)) files" }
                    if let r = c.rows, let col = c.columns { line += ", \(grouped(r)) \(noun(r, "row")) × \(counted(col, "column"))" }
                }
                Out.line(line)
            }
            Out.line()
        }
    }
}
