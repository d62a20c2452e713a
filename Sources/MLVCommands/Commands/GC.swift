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

        With --aggressive, every live object is rewritten into new packs instead: each \
        file's versions oldest first, every chunk stored against the version before it (as \
        commit stores it) at zstd level 9 (--level), and kept as it was whenever that is \
        smaller, so the store never grows. A store written before deltas, or a history \
        whose versions differ a little everywhere (rows inserted throughout, a column \
        recomputed, fine-tuned weights), shrinks to a fraction. Slower than plain gc: it \
        reads and recompresses everything live; interrupting it loses nothing.

        Examples:
          mlv gc --dry-run
          mlv gc
          mlv gc --aggressive
        """)
    @OptionGroup var repo: RepoOptions
    @Flag(help: "Only report what would be freed.") var dryRun = false
    @Flag(help: "Rewrite the whole store: older versions as deltas against newer ones, compressed harder.") var aggressive = false
    @Option(help: ArgumentHelp("zstd level for --aggressive (1-19; default 9).", valueName: "N")) var level: Int?
    @Flag(help: "Print as JSON.") var json = false
    @OptionGroup var output: QuietOption

    func validate() throws {
        if aggressive && dryRun {
            throw ValidationError("--dry-run cannot tell what --aggressive saves without recompressing everything; run mlv gc --aggressive (interrupting it loses nothing)")
        }
        if let l = level {
            guard aggressive else { throw ValidationError("--level goes with --aggressive") }
            guard (1...19).contains(l) else { throw ValidationError("--level must be 1-19, got \(l)") }
        }
    }

    func run() throws {
        output.apply()
        let r = try MLVCore.GC(repo.open()).run(dryRun: dryRun, aggressive: aggressive, level: level)
        if json { try Out.json(r); return }
        GCText.render(r, dryRun: dryRun)
    }
}
