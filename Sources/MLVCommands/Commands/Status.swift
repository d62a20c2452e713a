// `mlv status`: tracked data that changed, moved or is missing.
import ArgumentParser
import MLVCore

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
        Metrics and params files, which git keeps, are listed with the same words (and         `untracked` before their first `git add`).

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
            var on: String? = nil
            if let b = ws.git.currentBranch() { on = "On branch \(b)" }
            else if let h = try ws.git.head() { on = "HEAD detached at \(h.short)" }
            StatusText.render(r, on: on)
        }
        if exitCode && !r.isClean { throw ExitCode(ExitStatus.differences.rawValue) }
    }
}
