// `mlv commit` for people: each target that changed, what was read and stored, the commit.
import MLVCore

enum CommitText {
    static func render(_ r: CommitResult, message: String) {
        let width = max(10, r.targets.map(\.path.count).max() ?? 0)
        for t in r.targets where t.change != .unchanged {
            var line = "\(pad(t.change.rawValue, 9)) \(pad(t.path, width))  \(bytes(t.size))"
            if t.files != 1 { line += ", \(grouped(t.files)) files" }
            if let rows = t.rows, let cols = t.columns { line += ", \(grouped(rows)) \(noun(rows, "row")) × \(counted(cols, "column"))" }
            if t.change == .missing { line += " — data missing, not committed (`mlv checkout` restores it, `mlv untrack` stops tracking)" }
            Out.line(line)
        }
        if r.targets.allSatisfy({ $0.change == .unchanged }) { Out.line("tracked data unchanged") }
        let already = r.bytesRead >= r.newBytes ? r.bytesRead - r.newBytes : 0
        Out.line("read \(bytes(r.bytesRead)) in \(counted(r.filesRead, "file")): \(bytes(r.newBytes)) new, stored as \(bytes(r.storedBytes)) (\(grouped(UInt64(r.newChunks))) of \(grouped(UInt64(r.chunks))) \(noun(r.chunks, "chunk"))); \(bytes(already)) already stored")
        if let c = r.commit {
            Out.line("[\(r.branch ?? "detached HEAD") \(c.prefix(12))] \(message)")
        } else {
            Out.line("pointers updated; no git commit (--no-git)")
        }
    }
}
