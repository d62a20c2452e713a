// Which snapshots a store-wide operation starts from (`Roots`): what the pointers name at
// some revisions (push, fetch), what must survive a gc (every ref, reflog, the stash and the
// working state), and every object below a set of snapshots (push, fsck). One owner, so push,
// fetch, gc and fsck agree on what is live.
import MLVSystem
import MLVGit
import MLVStore

/// A snapshot a pointer names: at `commit`, or (nil) in the working tree.
typealias Pointed = (id: ObjectID, path: String, pointer: Pointer, commit: GitOID?)

/// The snapshots a workspace's pointers, refs and caches hold.
public struct Roots {
    public let workspace: Workspace

    public init(_ workspace: Workspace) { self.workspace = workspace }

    private var ws: Workspace { workspace }

    /// Snapshot roots the pointers hold: at the given revisions, or HEAD and the working tree.
    /// With `paths`, only targets at or below (or containing) those paths count.
    func snapshots(revs: [String], allCommits: Bool, paths: [String] = []) throws -> Set<ObjectID> {
        Set(try pointed(revs: revs, allCommits: allCommits, paths: paths).map(\.id))
    }

    /// The same, with the target and pointer naming each (a snapshot may be named by several).
    func pointed(revs: [String], allCommits: Bool, paths: [String] = []) throws -> [Pointed] {
        let wanted = try paths.map { try ws.userPath($0) }
        func selected(_ t: String) -> Bool {
            wanted.isEmpty || wanted.contains { RepoPath.isWithin(t, $0) || RepoPath.isWithin($0, t) }
        }
        var out: [Pointed] = []
        var commits: [GitOID] = try revs.map { try ws.resolve($0) }
        if allCommits, let h = try ws.git.head() { commits = try ws.git.history(from: h) }
        if revs.isEmpty && !allCommits {
            if let h = try ws.git.head() { commits.append(h) }
            for (t, p) in try ws.targets() where selected(t) { if let s = p.snapshot { out.append((s, t, p, nil)) } }
        }
        for c in commits { for (t, p) in try ws.targets(at: c) where selected(t) { if let s = p.snapshot { out.append((s, t, p, c)) } } }
        if !wanted.isEmpty && out.isEmpty {
            throw MLVError.notTracked(wanted.joined(separator: ", "))
        }
        return out
    }

    /// Snapshots that must survive a gc: pointers in every commit reachable from any ref
    /// (branches, tags, remote-tracking refs, stash) or still in a reflog, the working pointers, what mlv last
    /// wrote (stat cache), work saved by `checkout --force`, and the run cache's outputs.
    /// `logs` holds those kept only because a reflog or the stash reaches a commit that pins
    /// them, with the refs whose logs do; `roots` the rest.
    func live(skipped: inout [String]) throws -> (roots: Set<ObjectID>, logs: [ObjectID: Set<String>]) {
        var roots = Set<ObjectID>()
        let commits = try ws.git.reachableCommitsBySource()
        for c in commits.fromRefs {
            for (_, p) in try ws.readableTargets(at: c, skipped: &skipped) { if let s = p.snapshot { roots.insert(s) } }
        }
        for (_, p) in try ws.targets() { if let s = p.snapshot { roots.insert(s) } }
        let cache = ws.loadStatCache()
        roots.formUnion(cache.synced.values)
        roots.formUnion(cache.verified.values)
        roots.formUnion(ws.savedSnapshots())
        for name in (try? FS.list(ws.runCacheDir)) ?? [] {
            guard let bytes = try? FS.readAll(FS.join(ws.runCacheDir, name)),
                  let r = RunRecord(json: bytes) else { continue }
            for id in r.outputs.values { if let o = ObjectID(hex: id) { roots.insert(o) } }
        }
        var logs: [ObjectID: Set<String>] = [:]
        for (c, via) in commits.onlyFromLogs {
            for (_, p) in try ws.readableTargets(at: c, skipped: &skipped) {
                if let s = p.snapshot, !roots.contains(s) { logs[s, default: []].formUnion(via) }
            }
        }
        return (roots, logs)
    }

    /// Every object id below the roots (trees, manifests, chunks), from the local store. An
    /// object missing here that `elsewhere` holds (a remote's index) is skipped with what
    /// lies below it: a push need not have the data of commits it never fetched.
    static func objects(below roots: Set<ObjectID>, store: Store, elsewhere: Set<ObjectID> = []) throws -> Set<ObjectID> {
        try store.walk(from: roots) { id in
            if !elsewhere.contains(id) { throw StoreError.missingObject(id, type: .chunk) }
        }
    }
}
