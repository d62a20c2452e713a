// `mlv status` for people: the branch, pointers that differ from HEAD, data that differs from
// its pointer, and the command that deals with each state (JSON is the result itself).
import Foundation
import MLVCore

enum StatusText {
    /// `on`: "On branch main" or "HEAD detached at …", when HEAD names either.
    static func render(_ r: StatusResult, on: String?) {
        if let on { Out.line(on) }
        if let to = r.interruptedCheckout {
            Out.line("An interrupted `mlv checkout` left the switch to \(to) half done: run `mlv checkout` to finish it.")
        }
        let dirty = r.targets.filter { ($0.state != .clean && $0.pointer != .removed) || $0.missingObjects }
        // Pointers that differ from HEAD's; a never-committed target shows as `added` above.
        let staged = r.targets.filter { $0.pointer == .changed || $0.pointer == .removed || ($0.pointer == .new && $0.state != .added) }
        let width = max(10, (dirty + staged).map(\.path.count).max() ?? 0)
        if r.targets.isEmpty && r.gitFiles.isEmpty {
            Out.line("nothing tracked yet; start with `mlv track PATH`")
        } else if r.isClean {
            let n = r.targets.count
            Out.line("tracked data clean (\(counted(n, "target"))), pointers as committed at HEAD")
        }
        if !staged.isEmpty {
            Out.line("Pointers that differ from HEAD (changes to be committed):")
            for t in staged {
                let what: String
                switch t.pointer {
                case .removed: what = "untracked:"
                case .new: what = "new pointer:"
                case .changed, .committed, .conflicted: what = "changed pointer:"
                }
                var line = "  \(pad(what, 17)) \(pad(t.path, width))  (\(t.kind.rawValue))"
                if let c = t.committed, let s = t.snapshot { line += "  HEAD \(c.prefix(12)) → \(s.prefix(12))" }
                Out.line(line)
            }
            Out.line("Record them with `mlv commit -m MESSAGE`; undo one with `git checkout HEAD -- PATH.mlv` then `mlv checkout`.")
            if !dirty.isEmpty { Out.line("Data that differs from its pointer:") }
        }
        for t in dirty {
            var state = t.state.rawValue.replacingOccurrences(of: "_", with: " ")
            if t.state == .clean { state = "clean" }
            var line = "  \(pad(state + ":", 17)) \(pad(t.path, width))  (\(t.kind.rawValue))"
            if t.missingObjects { line += "  [missing objects: run `mlv pull`]" }
            Out.line(line)
        }
        for g in r.gitFiles where g.state != .clean {
            Out.line("  \(pad(g.state.rawValue + ":", 17)) \(g.path)  (\(g.kind.rawValue), in git)")
        }
        if dirty.contains(where: { $0.state == .modified || $0.state == .added }) {
            Out.line("Commit with `mlv commit -m MESSAGE`; discard with `mlv checkout --force -- PATH`.")
        }
        if dirty.contains(where: { $0.state == .outOfSync || $0.state == .notCheckedOut }) {
            Out.line("Bring data in line with the pointers with `mlv checkout`.")
        }
        if let d = dirty.first(where: { $0.state == .diverged }) {
            Out.line("\(d.path) was edited while its pointer moved: `mlv checkout --force -- \(d.path)` saves your version in the store and brings the pointer's; combine them, then commit.")
        }
        if let c = dirty.first(where: { $0.state == .conflicted }) {
            Out.line("Resolve a conflicted pointer with `git checkout --ours \(c.path).mlv` (or --theirs), `git add \(c.path).mlv`, then `mlv checkout`.")
        }
    }
}
