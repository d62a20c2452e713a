// Remote — sharing the store: a remote holds the same layout as a local store (MLVStore's
// Layout), reached through a Transport (RemoteStore.swift). This file holds what is mlv's
// own: which snapshots push and fetch need (from the pointers), the user-facing errors, and
// the checks of fetched snapshots; what is copied, in which order, is MLVStore's `Sync`.
import MLVSystem
import MLVGit
import MLVS3
import MLVStore

public enum RemoteError: Error, CustomStringConvertible, Equatable {
    case unknownRemote(String, known: [String])
    case noRemote
    case unsupportedURL(String)
    case unreachable(remote: String, why: String)
    /// Objects the remote should hold and lacks: `targets` whose data they are, `commits`
    /// (short ids) pinning them, none when only working-tree pointers named them.
    case missingOnRemote(remote: String, count: Int, targets: [String], commits: [String])
    /// A relative directory URL read from mlv.yaml.
    case relativeURL(remote: String, url: String)
    /// A file on the remote that is not what mlv wrote there (wrong content, wrong kind of
    /// file, impossible size): integrity, like a damaged local store.
    case damaged(remote: String, path: String, why: String)
    /// Data a command needs that this clone's store lacks and the command may not fetch
    /// (--offline, no remote, or a command that does not fetch): `what` names the targets
    /// and revisions, `fix` the exact command that brings them (FetchMissing.swift).
    case notFetched(what: String, fix: String)

    public var description: String {
        switch self {
        case .unknownRemote(let n, let known):
            return "no remote \(n.debugDescription)" + (known.isEmpty ? "; add one with `mlv remote add NAME URL`" : "; remotes are \(known.joined(separator: ", "))")
        case .noRemote:
            return "no remote configured; add one with `mlv remote add origin /path/or/url`"
        case .unsupportedURL(let u):
            return "\(u.debugDescription) is not a remote URL mlv can use (a local path, file://PATH or s3://BUCKET[/PREFIX])"
        case .unreachable(let r, let why):
            return "remote \(r): \(why)"
        case .missingOnRemote(let r, let n, let targets, let commits):
            let of = targets.isEmpty ? "" : " of " + targets.prefix(3).joined(separator: ", ") + (targets.count > 3 ? " and \(targets.count - 3) more" : "")
            let at = commits.isEmpty ? "" : " at " + commits.prefix(3).joined(separator: ", ") + (commits.count > 3 ? " and \(commits.count - 3) more commits" : "")
            // The remote's name is the same in every clone (mlv.yaml is committed).
            let fix: String
            if commits.isEmpty {
                fix = "in the clone that has the data, run `mlv push \(r)`"
            } else if commits.count <= 3 {
                fix = "in the clone that committed it, run `mlv push \(r) " + commits.map { "--rev \($0)" }.joined(separator: " ") + "` (or `mlv push \(r) --all-commits` for every commit)"
            } else {
                fix = "in the clone that committed it, run `mlv push \(r) --all-commits`"
            }
            return "remote \(r) lacks \(counted(n, "object")) the pointers need (the data\(of)\(at)); \(fix)"
        case .relativeURL(let r, let u):
            return "remote \(r): url \(u.debugDescription) in mlv.yaml is a relative path, which would name a different folder in every clone; give it an absolute one: `mlv remote remove \(r)` then `mlv remote add \(r) /absolute/path`"
        case .damaged(let r, let path, let why):
            return "remote \(r): \(path): \(why); the remote is damaged: check it with `mlv fsck --remote \(r)` and push again from a clone that has the data"
        case .notFetched(let what, let fix):
            return "the data of \(what) is not in the local store; \(fix)"
        }
    }
}

public struct TransferResult: Codable, Sendable {
    public var remote: String
    public var packs: Int            // packs transferred
    public var bytes: UInt64         // bytes transferred
    public var alreadyThere: Int     // packs the other side had
    public var alreadyThereBytes: UInt64?  // their size (push)
    public var objects: Int          // objects the pointers need

    enum CodingKeys: String, CodingKey {
        case remote, packs, bytes, objects
        case alreadyThere = "already_there"
        case alreadyThereBytes = "already_there_bytes"
    }
}

/// A snapshot a pointer names: at `commit`, or (nil) in the working tree.
typealias Pointed = (id: ObjectID, path: String, pointer: Pointer, commit: GitOID?)

extension Workspace {
    func remote(_ name: String?) throws -> RemoteStore {
        guard let n = name ?? config.defaultRemote ?? (config.remotes.count == 1 ? config.remotes.keys.first : nil) else {
            throw RemoteError.noRemote
        }
        guard let r = config.remotes[n] else { throw RemoteError.unknownRemote(n, known: config.remotes.keys.sorted()) }
        return try RemoteStore(name: n, url: r.url, endpoint: r.endpoint)
    }

    /// `mlv remote add`: the first remote becomes the default. A directory typed as a relative
    /// path is stored absolute (relative to where the command runs), as every clone must
    /// find the same folder.
    /// A directory that does not exist is refused unless `create`: a typo or an unmounted
    /// share would otherwise become a new, empty remote on the local disk.
    public func addRemote(_ name: String, url typed: String, endpoint: String?, makeDefault: Bool, create: Bool = false) throws {
        var url = typed
        guard Config.isValidName(name) else {
            throw MLVError.invalidArgument("remote names use letters, digits, '-' and '_'")
        }
        if url.hasPrefix("s3://") {
            // Checked for form only: credentials belong to whoever pushes, not to the config.
            do { _ = try S3Location(url: url, endpoint: endpoint, region: "us-east-1") } catch let e as S3Error {
                throw MLVError.invalidArgument(e.description)
            }
        } else {
            guard endpoint == nil else { throw MLVError.invalidArgument("--endpoint is for s3:// remotes") }
            url = try RemoteStore.absoluteURL(typed, cwd: cwd)
            let root = try RemoteStore.directory(name: name, url: url)
            if !FS.isDirectory(root) {
                guard create else {
                    throw MLVError.invalidArgument("\(root) does not exist; check the path (is the share mounted?), or add --create to make the folder")
                }
                try FS.makeDirectories(root)
            }
        }
        if config.remotes[name] != nil { throw MLVError.invalidArgument("remote \(name) exists; remove it first with `mlv remote remove \(name)`") }
        config.remotes[name] = RemoteSettings(url: url, endpoint: endpoint)
        if makeDefault || config.defaultRemote == nil { config.defaultRemote = name }
        try config.save(path: configPath)
        try stageInGit([Config.fileName])
    }

    public func removeRemote(_ name: String) throws {
        guard config.remotes[name] != nil else { throw RemoteError.unknownRemote(name, known: config.remotes.keys.sorted()) }
        config.remotes[name] = nil
        if config.defaultRemote == name { config.defaultRemote = config.remotes.keys.sorted().first }
        try config.save(path: configPath)
        try stageInGit([Config.fileName])
    }

    /// Snapshot roots the pointers hold: at the given revisions, or HEAD and the working tree.
    /// With `paths`, only targets at or below (or containing) those paths count.
    func pointerRoots(revs: [String], allCommits: Bool, paths: [String] = []) throws -> Set<ObjectID> {
        Set(try pointedSnapshots(revs: revs, allCommits: allCommits, paths: paths).map(\.id))
    }

    /// The same, with the target and pointer naming each (a snapshot may be named by several).
    func pointedSnapshots(revs: [String], allCommits: Bool, paths: [String] = []) throws -> [Pointed] {
        let wanted = try paths.map { try userPath($0) }
        func selected(_ t: String) -> Bool {
            wanted.isEmpty || wanted.contains { RepoPath.isWithin(t, $0) || RepoPath.isWithin($0, t) }
        }
        var out: [Pointed] = []
        var commits: [GitOID] = try revs.map { try resolve($0) }
        if allCommits, let h = try git.head() { commits = try git.history(from: h) }
        if revs.isEmpty && !allCommits {
            if let h = try git.head() { commits.append(h) }
            for (t, p) in try targets() where selected(t) { if let s = p.snapshot { out.append((s, t, p, nil)) } }
        }
        for c in commits { for (t, p) in try targets(at: c) where selected(t) { if let s = p.snapshot { out.append((s, t, p, c)) } } }
        if !wanted.isEmpty && out.isEmpty {
            throw MLVError.notTracked(wanted.joined(separator: ", "))
        }
        return out
    }

    /// Every object id below the roots (trees, manifests, chunks), from the local store. An
    /// object missing here that `elsewhere` holds (a remote's index) is skipped with what
    /// lies below it: a push need not have the data of commits it never fetched.
    func closure(_ roots: Set<ObjectID>, store: Store, elsewhere: Set<ObjectID> = []) throws -> Set<ObjectID> {
        try store.walk(from: roots) { id in
            if !elsewhere.contains(id) { throw StoreError.missingObject(id, type: .chunk) }
        }
    }

    /// The remote's indexes (`Sync.indexes`), cached in .mlv/cache/remote-index.
    func remoteIndexes(_ r: RemoteStore, store: Store, strict: Bool) throws -> [DecodedIndex] {
        try r.mapped { try Sync.indexes(of: r, store: store, cacheDir: remoteIndexCache, strict: strict) }
    }

    /// Verified copies of remote index files (immutable, named by their hash).
    var remoteIndexCache: String { FS.join(mlvDir, "cache/remote-index") }

    /// `mlv push`: whole packs holding what the pointers need and the remote lacks, then one
    /// index for them (packs first: the remote never indexes a pack it does not have).
    public func push(remote name: String?, revs: [String], allCommits: Bool) throws -> TransferResult {
        try push(to: remote(name), revs: revs, allCommits: allCommits)
    }

    func push(to r: RemoteStore, revs: [String], allCommits: Bool) throws -> TransferResult {
        let lock = try self.lock("push") { _ in }
        defer { withExtendedLifetime(lock) {} }
        try r.prepare(forWriting: true)
        let store = try store()
        store.removeStaleTemporaries()
        try store.loadIndex()
        var indexed = Set<ObjectID>(), onRemote = Set<ObjectID>()
        for idx in try remoteIndexes(r, store: store, strict: false) {
            indexed.formUnion(idx.packs)
            for (id, _, _) in idx.entries { onRemote.insert(id) }
        }
        let objects = try closure(pointerRoots(revs: revs, allCommits: allCommits), store: store, elsewhere: onRemote)
        var needed = Set<ObjectID>()
        for id in objects { if let p = try store.pack(of: id) { needed.insert(p) } }
        let pushed = try r.mapped {
            try Sync.push(store, needed: needed, indexed: indexed, to: r) { self.progress?("pushing to \(r.name)", $0, $1) }
        }
        return TransferResult(remote: r.name, packs: pushed.packs, bytes: pushed.bytes, alreadyThere: pushed.alreadyThere,
                              alreadyThereBytes: pushed.alreadyThereBytes, objects: objects.count)
    }

    /// `mlv fetch`: downloads, verifies and indexes the remote packs holding what the pointers
    /// need (walking trees and manifests as they arrive). Nothing unverified reaches the store.
    public func fetch(remote name: String?, revs: [String], paths: [String] = []) throws -> TransferResult {
        let r = try remote(name)
        return try fetch(pointedSnapshots(revs: revs, allCommits: false, paths: paths), from: r)
    }

    /// The transfer itself, for `fetch` and for the commands that fetch what they read
    /// (`fetchMissing`): the packs holding the snapshots `pointed` names and all below them,
    /// or with `treesOnly` their folders' trees alone (`mlv ls` reads nothing else).
    func fetch(_ pointed: [Pointed], from r: RemoteStore,
               treesOnly: Bool = false) throws -> TransferResult {
        let lock = try self.lock("fetch") { _ in }
        defer { withExtendedLifetime(lock) {} }
        try r.prepare(forWriting: false)
        let store = try store()
        store.removeStaleTemporaries()
        try store.loadIndex()
        // The remote's indexes: object -> remote pack.
        var where_: [ObjectID: ObjectID] = [:]
        for idx in try remoteIndexes(r, store: store, strict: true) {
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
                try Sync.fetch(packs, sizes: sizes, from: r, into: store) { self.progress?("fetching from \(r.name)", $0, $1) }
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

extension RemoteError: CategorizedError {
    public var category: ErrorCategory {
        switch self {
        case .missingOnRemote, .damaged, .notFetched: return .integrity
        case .unknownRemote, .noRemote, .unsupportedURL, .unreachable, .relativeURL: return .input
        }
    }
}
