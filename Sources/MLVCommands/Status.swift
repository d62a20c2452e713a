import MLVSystem
import ArgumentParser
import MLVCore
import MLVStore

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show tracked data that changed, moved or is missing.",
        discussion: """
        For each tracked target, compares the working data with its pointer. Files whose \
        stat matches what mlv last saw are not read, so this is fast on large unchanged data.

        States:
          modified          the data differs from the pointer (commit it, or `mlv checkout --force`)
          added             tracked but never committed
          deleted           the data is gone from the working tree
          out of sync       the pointer changed (git pull, git switch): run `mlv checkout`
          diverged          edited here while the pointer changed: `mlv checkout --force -- PATH`
                            saves your version and brings the pointer's; `mlv commit` refuses
          not checked out   never written here (fresh clone): run `mlv checkout` or `mlv pull`
          missing objects   the store lacks the pointer's data: run `mlv pull`
          conflicted        the pointer has a git merge conflict: pick a side, `git add`, `mlv checkout`

        An interrupted `mlv checkout REV` (killed mid-switch) is reported first; any \
        `mlv checkout` completes it, and `mlv commit` refuses until then.

        Pointers that differ from HEAD's are listed apart, as changes to be committed \
        (after `mlv repro`, an interrupted commit or checkout, `git add` of a pointer): \
        `mlv commit` records them. Anything listed makes `--exit-code` exit 1.

        Examples:
          mlv status
          mlv status --json | jq '.targets[] | select(.state != "clean")'
          mlv status --exit-code    # exit 1 when anything is not clean (for scripts)
        """)

    @OptionGroup var repo: RepoOptions
    @Flag(help: "Print the result as JSON.") var json = false
    @Flag(help: "Exit with status 1 when anything is not clean.") var exitCode = false
    @OptionGroup var output: QuietOption

    func run() throws {
        output.apply()
        let ws = try repo.open()
        let r = try MLVCore.Status(ws).run()
        if json {
            try Out.json(r)
        } else {
            if let b = ws.git.currentBranch() { Out.line("On branch \(b)") }
            else if let h = try ws.git.head() { Out.line("HEAD detached at \(h.short)") }
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
        if exitCode && !r.isClean { throw ExitCode(ExitStatus.differences.rawValue) }
    }
}

extension String {
    func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}
