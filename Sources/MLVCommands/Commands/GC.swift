// `mlv gc`: free store data nothing reachable needs.
import ArgumentParser
import MLVCore

struct GC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove store data that nothing reachable needs; repack mostly-dead packs.",
        discussion: """
        Keeps everything the pointers of any commit reachable from a branch, tag, \
        remote-tracking ref, stash entry or reflog entry need, plus the working pointers, data \
        mlv last wrote, work saved by `checkout --force`, and run-cache outputs. Safe against a \
        concurrent commit: it holds the repository lock. It reports what it keeps only for a \
        reflog or the stash (`kept_for_reflog_or_stash` in JSON: snapshots, objects, stored \
        bytes, the refs whose logs reach them); `git reflog expire --expire=now --all && git \
        stash clear`, then `mlv gc`, lets that go.

        Examples:
          mlv gc --dry-run
          mlv gc
        """)
    @OptionGroup var repo: RepoOptions
    @Flag(help: "Only report what would be freed.") var dryRun = false
    @Flag(help: "Print as JSON.") var json = false
    @OptionGroup var output: QuietOption

    func run() throws {
        output.apply()
        let r = try MLVCore.GC(repo.open()).run(dryRun: dryRun)
        if json { try Out.json(r); return }
        GCText.render(r, dryRun: dryRun)
    }
}
