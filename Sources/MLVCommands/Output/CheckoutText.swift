// The text form of a checkout's result, shared by `mlv checkout` and `mlv pull`.
import MLVCore

/// A checkout's result for people (JSON is the result itself).
enum CheckoutText {
    /// What a checkout did, for people: saved work and stashes first (with the way back),
    /// then each target that changed, then a summary. `pull` shows its checkout the same way.
    static func render(_ r: CheckoutResult, quiet: Bool) {
        // Where uncommitted work went is shown even with --quiet: it is the way back.
        for w in r.warnings { Out.err("warning: \(w)") }
        if let st = r.stash {
            Out.err("stashed your uncommitted git changes as \(st.prefix(12)); bring them back with `git stash pop`")
        }
        for s in r.saved {
            Out.err("saved your uncommitted \(s.path) as snapshot \(s.snapshot.prefix(12)); bring it back with `\(s.restore)`")
        }
        if quiet { return }
        if let c = r.completed { Out.err("completed the interrupted checkout of \(c.prefix(12)) first") }
        for t in r.targets where t.action != .unchanged {
            Out.line("\(pad(t.action.rawValue, 9)) \(t.path)" + (t.action == .kept ? " (your uncommitted change; the commits do not differ here)" : ""))
        }
        if let c = r.commit {
            Out.line(r.branch.map { "Switched to branch \($0) (\(c.prefix(12)))" } ?? "HEAD is now at \(c.prefix(12))")
        }
        let unchanged = r.targets.filter { $0.action == .unchanged }.count
        var summary = "wrote \(counted(r.filesWritten, "file")) (\(bytes(r.bytesWritten))"
        if r.bytesReused > 0 { summary += ", \(bytes(r.bytesReused)) reused from the old files" }
        summary += ")"
        if unchanged > 0 { summary += "; \(counted(unchanged, "target")) already up to date" }
        Out.line(summary)
    }
}
