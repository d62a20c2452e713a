// `mlv push` (`Push`): which packs the remote lacks for what the pointers need; MLVStore's
// `Sync` copies them, packs before the index naming them.
import MLVSystem
import MLVStore

/// Pushing the local store's packs the pointers need to a remote.
public struct Push {
    public let workspace: Workspace

    public init(_ workspace: Workspace) { self.workspace = workspace }

    private var ws: Workspace { workspace }

    /// `mlv push`: whole packs holding what the pointers need and the remote lacks, then one
    /// index for them (packs first: the remote never indexes a pack it does not have).
    public func run(remote name: String?, revs: [String], allCommits: Bool) throws -> TransferResult {
        try run(to: ws.remote(name), revs: revs, allCommits: allCommits)
    }

    func run(to r: RemoteStore, revs: [String], allCommits: Bool) throws -> TransferResult {
        let lock = try ws.lock("push") { _ in }
        defer { withExtendedLifetime(lock) {} }
        try r.prepare(forWriting: true)
        let store = try ws.store()
        store.removeStaleTemporaries()
        try store.loadIndex()
        var indexed = Set<ObjectID>(), onRemote = Set<ObjectID>()
        for idx in try ws.remoteIndexes(r, store: store, strict: false) {
            indexed.formUnion(idx.packs)
            for (id, _, _) in idx.entries { onRemote.insert(id) }
        }
        let objects = try Roots.objects(below: Roots(ws).snapshots(revs: revs, allCommits: allCommits), store: store, elsewhere: onRemote)
        var needed = Set<ObjectID>()
        for id in objects { if let p = try store.pack(of: id) { needed.insert(p) } }
        // Whole packs go: the bases of every delta in them go too.
        needed = try store.closedUnderBases(needed)
        let pushed = try r.mapped {
            try Sync.push(store, needed: needed, indexed: indexed, to: r) { ws.progress?("pushing to \(r.name)", $0, $1) }
        }
        return TransferResult(remote: r.name, packs: pushed.packs, bytes: pushed.bytes, alreadyThere: pushed.alreadyThere,
                              alreadyThereBytes: pushed.alreadyThereBytes, objects: objects.count)
    }
}
