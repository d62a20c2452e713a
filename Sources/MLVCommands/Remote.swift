import MLVSystem
import ArgumentParser
import MLVCore
import MLVStore

struct RemoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote",
        abstract: "Manage remotes that share the store (kept in mlv.yaml, without credentials).",
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a remote: a directory (local path, shared disk, NFS), file:// URL, or s3://BUCKET[/PREFIX].",
            discussion: """
            The first remote added is the default for push, fetch and pull. The name, URL and \
            endpoint go into mlv.yaml (committed, so clones know them); credentials never do.

            S3 and S3-compatible servers (MinIO, Ceph, R2, ...): credentials are found the \
            AWS way: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, else the \
            profile AWS_PROFILE (default "default") in ~/.aws/credentials; the region from \
            AWS_REGION, AWS_DEFAULT_REGION or ~/.aws/config (default us-east-1). Without \
            --endpoint, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL is used if set, else AWS.

            Examples:
              mlv remote add origin /mnt/team/mlv-store
              mlv remote add local ~/mlv-remote --create    # make the folder
              mlv remote add backup file:///srv/mlv --default
              mlv remote add s3 s3://ml-data/projects/churn
              mlv remote add minio s3://mlv --endpoint http://127.0.0.1:9000
            """)
        @OptionGroup var repo: RepoOptions
        @Argument(help: "The remote's name.") var name: String
        @Argument(help: "Where it is.") var url: String
        @Option(help: "Endpoint of an S3-compatible server (for s3:// URLs).") var endpoint: String?
        @Flag(help: "Make it the default remote.") var `default` = false
        @Flag(help: "Create the folder of a directory remote if it does not exist (without it, a missing folder is refused: likely a typo or an unmounted share).")
        var create = false
        @Flag(help: "Print the result as JSON.") var json = false
        @OptionGroup var output: QuietOption

        func run() throws {
            output.apply()
            let ws = try repo.open()
            try ws.addRemote(name, url: url, endpoint: endpoint, makeDefault: `default`, create: create)
            if json, let r = RemoteJSON.all(ws.config).first(where: { $0.name == name }) { try Out.json(r); return }
            Out.line("remote \(name) added (\(url))")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List remotes.")
        @OptionGroup var repo: RepoOptions
        @Flag(help: "Print as JSON.") var json = false

        func run() throws {
            let c = try repo.open().config
            if json { try Out.json(RemoteJSON.all(c)); return }
            for n in c.remotes.keys.sorted() { Out.line("\(n)\t\(c.remotes[n]!.url)\(c.defaultRemote == n ? "\t(default)" : "")") }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a remote from mlv.yaml (its data is left alone).")
        @OptionGroup var repo: RepoOptions
        @Argument(help: "The remote's name.") var name: String
        @Flag(help: "Print the result as JSON.") var json = false
        @OptionGroup var output: QuietOption

        func run() throws {
            output.apply()
            let ws = try repo.open()
            let was = RemoteJSON.all(ws.config).first { $0.name == name }
            try ws.removeRemote(name)
            if json, let r = was { try Out.json(r); return }
            Out.line("remote \(name) removed")
        }
    }
}

/// A remote in JSON, as `remote list`, `remote add` and `remote remove` print it.
struct RemoteJSON: Encodable {
    let name: String
    let url: String
    let isDefault: Bool

    enum CodingKeys: String, CodingKey { case name, url, isDefault = "default" }

    static func all(_ c: Config) -> [RemoteJSON] {
        c.remotes.keys.sorted().compactMap { n in c.remotes[n].map { RemoteJSON(name: n, url: $0.url, isDefault: c.defaultRemote == n) } }
    }
}

func report(_ r: TransferResult, verb: String, json: Bool) throws {
    if json { try Out.json(r); return }
    let there = r.alreadyThereBytes.map { " (\(bytes($0)))" } ?? ""
    Out.line("\(verb) \(counted(r.packs, "pack")) (\(bytes(r.bytes))) \(verb == "pushed" ? "to" : "from") \(r.remote); \(r.alreadyThere) already there\(there); \(counted(r.objects, "object")) needed")
}

struct Push: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Upload the data the pointers need that the remote lacks.",
        discussion: """
        Sends whole packs holding the objects the pointers need (at HEAD and in the working \
        tree, or at --rev), and one index for them; a pack the remote has is not sent again.

        Examples:
          mlv push
          mlv push backup --rev v1.0
          mlv push --all-commits
        """)
    @OptionGroup var repo: RepoOptions
    @Option(help: "Push what these revisions pin (repeatable).") var rev: [String] = []
    @Flag(help: "Push what every commit reachable from HEAD pins.") var allCommits = false
    @Flag(help: "Print as JSON.") var json = false
    @OptionGroup var output: QuietOption
    @Argument(help: "The remote (default: the default remote).") var remote: String?

    func run() throws { output.apply(); try report(try repo.open().push(remote: remote, revs: rev, allCommits: allCommits), verb: "pushed", json: json) }
}

struct Fetch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download the data the pointers need (every object verified before use).",
        discussion: """
        Examples:
          mlv fetch
          mlv fetch origin --rev v1.0
          mlv fetch -- data/train.csv      # only this target
        """)
    @OptionGroup var repo: RepoOptions
    @Option(help: "Fetch what these revisions pin (repeatable; default HEAD and the working tree).") var rev: [String] = []
    @Flag(help: "Print as JSON.") var json = false
    @OptionGroup var output: QuietOption
    @Argument(help: "The remote (default: the default remote).") var remote: String?
    @Argument(parsing: .postTerminator, help: "After --: only these targets.") var paths: [String] = []

    func run() throws { output.apply(); try report(try repo.open().fetch(remote: remote, revs: rev, paths: paths), verb: "fetched", json: json) }
}

struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch what the current pointers need, then make the data match them.",
        discussion: """
        In a fresh `git clone`, `mlv pull` alone brings the data, from the remote named in \
        the committed mlv.yaml.

        Examples:
          git clone URL && cd repo && mlv pull
          mlv pull -- data/train.csv       # only this target
        """)
    @OptionGroup var repo: RepoOptions
    @Flag(name: .shortAndLong, help: "Overwrite uncommitted data (saved into the store first).") var force = false
    @Flag(help: "Print the result as JSON: {\"fetch\": what fetch --json prints, \"checkout\": what checkout --json prints}.") var json = false
    @OptionGroup var output: QuietOption
    @Argument(help: "The remote (default: the default remote).") var remote: String?
    @Argument(parsing: .postTerminator, help: "After --: only these targets.") var paths: [String] = []

    func run() throws {
        output.apply()
        let ws = try repo.open()
        let fetched = try ws.fetch(remote: remote, revs: [], paths: paths)
        if !json { try report(fetched, verb: "fetched", json: false) }
        let r = try MLVCore.Checkout(ws).run(rev: nil, paths: paths, force: force, snapshot: nil, waiting: waitingNotice)
        if json {
            struct Both: Encodable { let fetch: TransferResult; let checkout: CheckoutResult }
            try Out.json(Both(fetch: fetched, checkout: r))
            return
        }
        Checkout.render(r, quiet: output.quiet)
    }
}

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
            let x = try ws.repair()
            repaired = x
            if !json {
                for q in x.quarantined { Out.line("moved damaged pack \(q) to .mlv/store/lost/") }
                Out.line("rebuilt the index: \(counted(x.packsIndexed, "pack")), \(counted(x.objects, "object")) (replacing \(counted(x.indexesReplaced, "index file")))")
            }
        }
        let r = try remote.map { try ws.fsckRemote($0) } ?? ws.fsck()
        struct Both: Encodable { let repair: RepairResult; let check: FsckResult }
        if json, let x = repaired { try Out.json(Both(repair: x, check: r)) } else if json { try Out.json(r) } else {
            for s in r.skippedPointers { Out.err("warning: skipped \(s)") }
            // With --quiet the problems still show, on stderr: they are what went wrong.
            for p in r.problems { (output.quiet ? Out.err : Out.line)("\(p.what) \(p.path): \(p.problem)") }
            Out.line("checked \(counted(r.packs, "pack")), \(counted(r.objects, "object")), \(counted(r.commits, "commit")): \(r.problems.isEmpty ? "no problems" : "\(counted(r.problems.count, "problem"))")")
            if r.notFetched > 0 {
                Out.line("\(counted(r.notFetched, "committed snapshot")) not in this store (for the remote to hold; `mlv fetch --rev REV` brings a commit's)"
                         + (r.headNotFetched ? "; HEAD's data is incomplete here: run `mlv pull`" : ""))
            }
        }
        if !r.problems.isEmpty { throw ExitCode(ExitStatus.integrity.rawValue) }
    }
}

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
        let r = try repo.open().gc(dryRun: dryRun)
        if json { try Out.json(r); return }
        for s in r.skippedPointers { Out.err("warning: skipped \(s)") }
        Out.line("\(dryRun ? "would free" : "freed") \(bytes(r.bytesFreed)): \(counted(r.packsDeleted, "pack")) deleted, \(r.packsRepacked) repacked, \(r.packsKept) kept; \(counted(r.liveObjects, "live object"))")
        let k = r.keptForReflogOrStash
        if k.snapshots > 0 {
            Out.line("kept \(counted(k.snapshots, "snapshot")) (\(bytes(k.bytes)) in \(counted(k.objects, "object"))) only for the reflog or stash (\(k.refs.joined(separator: ", "))); to let go: git reflog expire --expire=now --all && git stash clear, then mlv gc")
        }
    }
}
