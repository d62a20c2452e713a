// Remote — sharing the store: a remote holds the same packs/ and index/ layout as a local
// store (RemoteStore.swift). Push uploads whole packs the remote lacks plus one index for
// them; fetch downloads the packs holding what the pointers need, verifies every object in
// them, and indexes them. Transfers run in parallel; nothing unverified reaches the store.
import MLVSystem
import Foundation
import Glibc
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
    func remote(_ name: String?) throws -> any RemoteStore {
        guard let n = name ?? config.defaultRemote ?? (config.remotes.count == 1 ? config.remotes.keys.first : nil) else {
            throw RemoteError.noRemote
        }
        guard let r = config.remotes[n] else { throw RemoteError.unknownRemote(n, known: config.remotes.keys.sorted()) }
        if r.url.hasPrefix("s3://") { return try S3Remote(name: n, url: r.url, endpoint: r.endpoint) }
        return try DirectoryRemote(name: n, url: r.url)
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
            url = try DirectoryRemote.absoluteURL(typed, cwd: cwd)
            let dir = try DirectoryRemote(name: name, url: url)
            if !FS.isDirectory(dir.root) {
                guard create else {
                    throw MLVError.invalidArgument("\(dir.root) does not exist; check the path (is the share mounted?), or add --create to make the folder")
                }
                try FS.makeDirectories(dir.root)
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
        var seen = Set<ObjectID>()
        var stack = Array(roots)
        while let id = stack.popLast() {
            guard seen.insert(id).inserted else { continue }
            guard let loc = try store.location(of: id) else {
                if elsewhere.contains(id) { continue }
                throw StoreError.missingObject(id, type: .chunk)
            }
            switch loc.type {
            case .tree: for e in try store.tree(id).entries { stack.append(e.id) }
            case .file: for c in try store.manifest(id).chunks { seen.insert(c.id) }
            case .chunk: break
            }
        }
        return seen
    }

    /// The remote's indexes, each checked against its name. Index files never change, so
    /// one read before is taken from .mlv/cache/remote-index instead of downloaded again.
    /// A damaged index is skipped when `strict` is false (push re-indexes what it needs),
    /// and fails the call otherwise (fetch must not miss objects silently). A file too large
    /// to be an index is refused before it is downloaded.
    func remoteIndexes(_ r: any RemoteStore, store: Store, strict: Bool) throws -> [DecodedIndex] {
        try FS.makeDirectories(remoteIndexCache)
        var out: [DecodedIndex] = []
        for (n, size) in try r.indexFiles() {
            let rel = "index/\(n)"
            let cached = FS.join(remoteIndexCache, n)
            do {
                let bytes: [UInt8]
                if FS.exists(cached) {
                    bytes = try FS.readAll(cached)
                    guard indexFileName(bytes) == n else {
                        FS.remove(cached)
                        throw RemoteError.unreachable(remote: r.name, why: "cached index \(n) is damaged; removed, run the command again")
                    }
                } else {
                    guard size <= maxRemoteIndexSize else { throw r.tooLarge(rel, size: size, limit: maxRemoteIndexSize) }
                    let tmp = FS.join(store.tmpDir, "remote-\(getpid())-\(n)")
                    defer { FS.remove(tmp) }
                    _ = try r.download(rel, to: tmp, limit: maxRemoteIndexSize)
                    bytes = try readWhole(FileHandleFD.openRead(tmp), limit: maxRemoteIndexSize)
                    guard indexFileName(bytes) == n else {
                        throw RemoteError.damaged(remote: r.name, path: r.describe(rel), why: "its content does not match its name")
                    }
                    try FS.rename(tmp, cached)
                }
                do { out.append(try decodeIndex(bytes, path: r.describe(rel))) } catch let e as StoreError {
                    throw remoteError(e, r, rel)
                }
            } catch {
                if strict { throw error }
            }
        }
        return out
    }

    /// Verified copies of remote index files (immutable, named by their hash).
    var remoteIndexCache: String { FS.join(mlvDir, "cache/remote-index") }

    /// `mlv push`: whole packs holding what the pointers need and the remote lacks, then one
    /// index for them (packs first: the remote never indexes a pack it does not have).
    public func push(remote name: String?, revs: [String], allCommits: Bool) throws -> TransferResult {
        let r = try remote(name)
        let lock = try self.lock("push") { _ in }
        defer { withExtendedLifetime(lock) {} }
        try r.prepare(forWriting: true)
        let store = try store()
        removeStaleTemporaries(store.tmpDir)
        try store.loadIndex()
        var indexed = Set<ObjectID>(), onRemote = Set<ObjectID>()
        for idx in try remoteIndexes(r, store: store, strict: false) {
            indexed.formUnion(idx.packs)
            for (id, _, _) in idx.entries { onRemote.insert(id) }
        }
        let objects = try closure(pointerRoots(revs: revs, allCommits: allCommits), store: store, elsewhere: onRemote)
        var needed = Set<ObjectID>()
        for id in objects { if let p = try store.pack(of: id) { needed.insert(p) } }
        let files = try r.packFiles()
        // Needed packs no remote index lists: upload those not there as files, then index all.
        let unindexed = needed.subtracting(indexed).sorted()
        let missing = unindexed.filter { files[$0] == nil }
        var total: UInt64 = 0, there: UInt64 = 0
        let sending = Set(missing)
        for p in needed {
            let size = UInt64(FS.lstat(store.packPath(p))?.st_size ?? 0)
            if sending.contains(p) { total += size } else { there += size }
        }
        var result = TransferResult(remote: r.name, packs: missing.count, bytes: 0, alreadyThere: needed.count - missing.count,
                                    alreadyThereBytes: there, objects: objects.count)
        let sent = Tally()
        try inParallel(missing, workers: r.parallelism, tick: { progress?("pushing to \(r.name)", min(sent.total, total), total) }) { p in
            sent.add(try r.upload(store.packPath(p), to: remotePackRel(p)))
        }
        result.bytes = sent.total
        if !unindexed.isEmpty {
            let bytes = encodeIndex(packs: try store.entries(inPacks: Set(unindexed)))
            let tmp = FS.join(store.tmpDir, "push-\(getpid()).idx")
            try FS.atomicWrite(bytes, to: tmp)
            defer { FS.remove(tmp) }
            result.bytes += try r.upload(tmp, to: "index/\(ObjectID.hash(bytes).hex).idx")
        }
        return result
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
    func fetch(_ pointed: [Pointed], from r: any RemoteStore,
               treesOnly: Bool = false) throws -> TransferResult {
        let lock = try self.lock("fetch") { _ in }
        defer { withExtendedLifetime(lock) {} }
        try r.prepare(forWriting: false)
        let store = try store()
        removeStaleTemporaries(store.tmpDir)
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
            let roundTotal = packs.reduce(UInt64(0)) { $0 + (sizes[$1] ?? 0) }
            let got = Tally()
            try inParallel(packs.sorted(), workers: r.parallelism,
                           tick: { progress?("fetching from \(r.name)", min(got.total, roundTotal), roundTotal) }) { p in
                let rel = remotePackRel(p)
                guard sizes[p] != nil else { throw StoreError.missingPack(path: r.describe(rel)) }
                let tmp = FS.join(store.tmpDir, "fetch-\(getpid())-\(p.hex).pack")
                do {
                    let size = try r.download(rel, to: tmp, limit: PackFormat.maxPackSize)
                    let check = try FileHandleFD.openRead(tmp)
                    // What is wrong with the download is wrong on the remote: named there,
                    // not in the local temp file, and not blamed on the local store.
                    let entries: [PackedEntry]
                    do {
                        guard try computePackID(check) == p else {
                            throw RemoteError.damaged(remote: r.name, path: r.describe(rel), why: "its content does not match its name")
                        }
                        entries = try verifyPack(check)
                    } catch let e as StoreError {
                        throw remoteError(e, r, rel)
                    }
                    try store.adopt(packFile: tmp, id: p, entries: entries)
                    got.add(size)
                } catch {
                    FS.remove(tmp)
                    throw error
                }
            }
            result.packs += packs.count
            result.bytes += got.total
            // What a remote index promised but its pack did not hold is missing too.
            for id in pending where where_[id] != nil {
                if try !store.contains(id) { missing += 1; lacking.insert(rootOf[id] ?? id) }
            }
            // Walk one level down.
            var next: [ObjectID] = []
            for id in pending where seen.insert(id).inserted {
                guard let loc = try store.location(of: id) else { continue }
                switch loc.type {
                case .tree:
                    let target = named[id] ?? "a snapshot"
                    guard level < TreeLimits.maxDepth else {
                        throw ObjectError.badSnapshot(target: target, why: "its trees are nested deeper than \(TreeLimits.maxDepth) levels, the format's limit")
                    }
                    for e in try store.tree(id).entries where !treesOnly || e.kind == .directory {
                        next.append(e.id)
                        if rootOf[e.id] == nil { rootOf[e.id] = rootOf[id] }
                        if e.kind == .directory && named[e.id] == nil { named[e.id] = target }
                    }
                case .file:
                    for c in try store.manifest(id).chunks {
                        next.append(c.id)
                        if rootOf[c.id] == nil { rootOf[c.id] = rootOf[id] }
                    }
                case .chunk: break
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

/// The error to report for a remote file whose check (of a local copy) threw `e`: named on
/// the remote, and a damaged remote rather than a damaged local store.
func remoteError(_ e: StoreError, _ r: any RemoteStore, _ rel: String) -> any Error {
    switch e {
    case .corruptPack(_, let offset, let why):
        return RemoteError.damaged(remote: r.name, path: r.describe(rel), why: "corrupt pack at byte \(offset): \(why)")
    case .corruptIndex(_, let why):
        return RemoteError.damaged(remote: r.name, path: r.describe(rel), why: "corrupt index: \(why)")
    case .unsupportedVersion(_, let found):
        return StoreError.unsupportedVersion(path: r.describe(rel), found: found)
    default:
        return e
    }
}

/// Removes what mlv left in `.mlv/store/tmp` over an hour ago: partial downloads and packs
/// of commands that were killed or stalled. Called with the repository lock held (push,
/// fetch, gc, fsck --repair), so no running command of this clone owns them; the hour covers
/// a clock skewed against the file system. Only regular files with the names mlv gives them
/// there, never through a symlink.
func removeStaleTemporaries(_ dir: String) {
    guard let st = FS.lstat(dir), st.st_mode & S_IFMT == S_IFDIR else { return }
    let hourAgo = realtimeNanoseconds() - 3_600_000_000_000
    for n in (try? FS.list(dir)) ?? [] where isStoreTempName(n) {
        let path = FS.join(dir, n)
        if let e = FS.lstat(path), e.st_mode & S_IFMT == S_IFREG, FileStat(e).mtime < hourAgo { FS.remove(path) }
    }
}

/// The names mlv's commands give their files in .mlv/store/tmp: `fetch-<pid>-…`,
/// `remote-<pid>-…`, `push-<pid>.idx` (Remote.swift, RemoteStore.swift) and `pack-<pid>-…`
/// (PackWriter).
func isStoreTempName(_ n: String) -> Bool {
    for prefix in ["fetch-", "remote-", "push-", "pack-"] where n.hasPrefix(prefix) {
        let rest = n.dropFirst(prefix.count)
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let next = rest.dropFirst(digits.count).first else { return false }
        return next == "-" || next == "."
    }
    return false
}

extension RemoteError: CategorizedError {
    public var category: ErrorCategory {
        switch self {
        case .missingOnRemote, .damaged, .notFetched: return .integrity
        case .unknownRemote, .noRemote, .unsupportedURL, .unreachable, .relativeURL: return .input
        }
    }
}
