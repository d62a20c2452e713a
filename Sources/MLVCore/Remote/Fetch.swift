// `mlv fetch` and `mlv pull`'s fetch (`Fetch`): the remote packs holding what the pointers
// need, found level by level (trees and manifests name what lies below only once they are
// here), downloaded and verified by MLVStore's `Sync`, then each snapshot checked whole.
import MLVSystem
import MLVStore

/// Fetching from a remote into the local store, verified.
public struct Fetch {
    public let workspace: Workspace

    public init(_ workspace: Workspace) { self.workspace = workspace }

    private var ws: Workspace { workspace }

    /// `mlv fetch`: downloads, verifies and indexes the remote packs holding what the pointers
    /// need (walking trees and manifests as they arrive). Nothing unverified reaches the store.
    public func run(remote name: String?, revs: [String], paths: [String] = []) throws -> TransferResult {
        let r = try ws.remote(name)
        return try run(Roots(ws).pointed(revs: revs, allCommits: false, paths: paths), from: r)
    }

    /// The transfer itself, for `fetch` and for the commands that fetch what they read
    /// (`FetchMissing`): the packs holding the snapshots `pointed` names and all below them,
    /// or with `treesOnly` their folders' trees alone (`mlv ls` reads nothing else).
    func run(_ pointed: [Pointed], from r: RemoteStore,
             treesOnly: Bool = false) throws -> TransferResult {
        let lock = try ws.lock("fetch") { _ in }
        defer { withExtendedLifetime(lock) {} }
        try r.prepare(forWriting: false)
        let store = try ws.store()
        store.removeStaleTemporaries()
        try store.loadIndex()
        // The remote's indexes: object -> remote pack.
        var where_: [ObjectID: ObjectID] = [:]
        for idx in try ws.remoteIndexes(r, store: store, strict: true) {
            for (id, p, _) in idx.entries { where_[id] = idx.packs[p] }
        }
        let sizes = try r.packFiles()
        var result = TransferResult(remote: r.name, packs: 0, bytes: 0, alreadyThere: 0, alreadyThereBytes: nil, objects: 0)
        var pending = Array(Set(pointed.map(\.id)))
        // The target first naming each tree, for errors; and how far below a root the walk is:
        // a tree first met `maxDepth` levels down lies deeper than the format allows.
        var named = Dictionary(pointed.map { ($0.id, $0.path) }, uniquingKeysWith: { a, _ in a })
        var level = 0
        var seen = Set<ObjectID>()
        var missing = 0
        // The snapshot each object was first reached from, to name what a missing one is of.
        var rootOf = Dictionary(pointed.map { ($0.id, $0.id) }, uniquingKeysWith: { a, _ in a })
        var lacking = Set<ObjectID>()
        while !pending.isEmpty {
            // Download the packs for everything pending that is not here yet.
            var packs = Set<ObjectID>()
            for id in pending where try !store.contains(id) {
                if let p = where_[id] { packs.insert(p) } else { missing += 1; lacking.insert(rootOf[id] ?? id) }
            }
            result.bytes += try r.mapped {
                try Sync.fetch(packs, sizes: sizes, from: r, into: store, packOf: { where_[$0] }) { ws.progress?("fetching from \(r.name)", $0, $1) }
            }
            result.packs += packs.count
            // What a remote index promised but its pack did not hold is missing too.
            for id in pending where where_[id] != nil {
                if try !store.contains(id) { missing += 1; lacking.insert(rootOf[id] ?? id) }
            }
            // Walk one level down.
            var next: [ObjectID] = []
            for id in pending where seen.insert(id).inserted {
                guard let loc = try store.location(of: id) else { continue }
                let target = named[id] ?? "a snapshot"
                if loc.type == .tree && level >= TreeLimits.maxDepth {
                    throw ObjectError.badSnapshot(target: target, why: "its trees are nested deeper than \(TreeLimits.maxDepth) levels, the format's limit")
                }
                for c in try store.children(of: id, type: loc.type, treesOnly: treesOnly) {
                    next.append(c.id)
                    if rootOf[c.id] == nil { rootOf[c.id] = rootOf[id] }
                    if c.isTree && named[c.id] == nil { named[c.id] = target }
                }
            }
            pending = next.filter { !seen.contains($0) }
            level += 1
        }
        result.objects = seen.count
        if missing > 0 {
            let of = pointed.filter { lacking.contains($0.id) }
            var targets: [String] = [], commits: [String] = []
            for x in of {
                if !targets.contains(x.path) { targets.append(x.path) }
                if let c = x.commit?.short, !commits.contains(c) { commits.append(c) }
            }
            throw RemoteError.missingOnRemote(remote: r.name, count: missing, targets: targets, commits: commits)
        }
        // All here now: each snapshot as a whole, against the limits and its pointer's totals,
        // once per distinct tree, before a checkout could start expanding it.
        for (id, path, p, _) in pointed {
            if p.type == .dir {
                try store.checkSnapshot(id, target: path, declared: (p.size, p.files))
            } else if !treesOnly, try store.manifest(id).size != p.size {
                throw ObjectError.badSnapshot(target: path, why: "its pointer says \(counted(p.size, "byte")), the stored file has \(try store.manifest(id).size)")
            }
        }
        return result
    }
}
