// `mlv fsck`: verify (and with --repair rebuild) the local store, or check a remote.
import ArgumentParser
import MLVCore

struct Fsck: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify the store: every object, every index, every pointer of every commit.",
        discussion: """
        Reads each pack in full (each object decompressed and checked against its SHA-256), \
        checks indexes against their packs, and that every pointer in every commit reachable \
        from HEAD resolves. Data a remote holds (its index listed it when this clone last \
        fetched or pushed, or the clone has fetched nothing yet) is counted as not fetched, \
        not as a problem, as git's partial clones treat promised objects. \
        With --remote, checks a remote's packs and indexes the same way. Exits 4 with the \
        list of problems when anything is wrong.

        Examples:
          mlv fsck --json
          mlv fsck --repair                # after a lost or damaged index
          mlv fsck --remote origin
        """)
    @OptionGroup var repo: RepoOptions
    @Option(help: "Check this remote instead of the local store.") var remote: String?
    @Flag(help: "First rebuild the indexes from the packs (damaged packs are moved to .mlv/store/lost/), then check.")
    var repair = false
    @Flag(help: "Print as JSON.") var json = false
    @OptionGroup var output: QuietOption

    func validate() throws {
        if repair && remote != nil { throw ValidationError("--repair works on the local store; check a remote with --remote alone") }
    }

    func run() throws {
        output.apply()
        let ws = try repo.open()
        var repaired: RepairResult?
        if repair {
            let x = try MLVCore.Fsck(ws).repair()
            repaired = x
            if !json { FsckText.repaired(x) }
        }
        let r = try remote.map { try MLVCore.Fsck(ws).run(remote: $0) } ?? MLVCore.Fsck(ws).run()
        struct Both: Encodable { let repair: RepairResult; let check: FsckResult }
        if json, let x = repaired { try Out.json(Both(repair: x, check: r)) } else if json { try Out.json(r) } else {
            FsckText.render(r, quiet: output.quiet)
        }
        if !r.problems.isEmpty { throw ExitCode(ExitStatus.integrity.rawValue) }
    }
}
