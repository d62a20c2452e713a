// Remote — sharing the store: a remote holds the same packs/ and index/ layout as a local
// store. Push uploads whole packs the remote lacks plus one index for them; fetch downloads
// the packs holding what the pointers need, verifies every object in them, and indexes them.
import Foundation
import Glibc
import MLVGit
import MLVStore

public enum RemoteError: Error, CustomStringConvertible, Equatable {
    case unknownRemote(String, known: [String])
    case noRemote
    case unsupportedURL(String)
    case unreachable(remote: String, why: String)
    case missingOnRemote(remote: String, count: Int)

    public var description: String {
        switch self {
        case .unknownRemote(let n, let known):
            return "no remote \(n.debugDescription)" + (known.isEmpty ? "; add one with `mlv remote add NAME URL`" : "; remotes are \(known.joined(separator: ", "))")
        case .noRemote:
            return "no remote configured; add one with `mlv remote add origin /path/or/url`"
        case .unsupportedURL(let u):
            return "\(u.debugDescription) is not a remote URL mlv can use yet (a local path or file://; s3:// is not available yet)"
        case .unreachable(let r, let why):
            return "remote \(r): \(why)"
        case .missingOnRemote(let r, let n):
            return "remote \(r) lacks \(n) object\(n == 1 ? "" : "s") the pointers need; push them from the clone that committed them"
        }
    }
}

/// A directory remote (a local path, a shared disk, NFS).
struct DirectoryRemote {
    let name: String
    let root: String

    init(name: String, url: String, base: String) throws {
        self.name = name
        var path = url
        if path.hasPrefix("file://") { path = String(path.dropFirst(7)) }
        guard !path.contains("://") else { throw RemoteError.unsupportedURL(url) }
        root = path.hasPrefix("/") ? path : FS.join(base, path)
    }

    func prepare() throws {
        for d in ["packs", "index", "tmp"] {
            do { try FS.makeDirectories(FS.join(root, d)) } catch {
                throw RemoteError.unreachable(remote: name, why: "cannot create \(root)/\(d) (\(error))")
            }
        }
        // Partial files of interrupted pushes: removed once an hour old (a push still
        // running, from this machine or another, writes younger files).
        let tmp = FS.join(root, "tmp")
        let hourAgo = realtimeNanoseconds() - 3_600_000_000_000
        for n in (try? FS.list(tmp)) ?? [] {
            if let st = FS.lstat(FS.join(tmp, n)), FileStat(st).mtime < hourAgo { FS.remove(FS.join(tmp, n)) }
        }
    }

    /// Pack ids present on the remote.
    func packs() throws -> Set<ObjectID> {
        var out = Set<ObjectID>()
        for sub in try FS.list(FS.join(root, "packs")) {
            for f in try FS.list(FS.join(root, "packs/\(sub)")) where f.hasSuffix(".pack") {
                if let id = ObjectID(hex: f.dropLast(5)) { out.insert(id) }
            }
        }
        return out
    }

    func indexNames() throws -> [String] { try FS.list(FS.join(root, "index")).filter { $0.hasSuffix(".idx") }.sorted() }

    /// Packs some valid remote index lists. A pack file no index lists (a push that stopped
    /// between pack and index) is not "there" for readers yet.
    func indexedPacks() throws -> Set<ObjectID> {
        var out = Set<ObjectID>()
        for n in try indexNames() {
            let path = FS.join(root, "index/\(n)")
            guard let bytes = try? FS.readAll(path), ObjectID.hash(bytes).hex + ".idx" == n,
                  let idx = try? decodeIndex(bytes, path: path) else { continue }
            out.formUnion(idx.packs)
        }
        return out
    }

    func packPath(_ id: ObjectID) -> String { FS.join(root, "packs/\(id.hex.prefix(2))/\(id.hex).pack") }

    /// A file copied to the remote's tmp/ whose write-back has started; `finish` makes it
    /// durable and gives it its name. Splitting the two lets the disk write one pack while
    /// the next is copied, instead of waiting on an fsync per pack.
    struct Upload {
        let tmp: String
        let dest: String
        let file: FileHandleFD
        let size: UInt64
    }

    func start(_ local: String, to rel: String) throws -> Upload {
        let dest = FS.join(root, rel)
        try FS.makeDirectories(FS.dirname(dest))
        let tmp = FS.join(root, "tmp/\(FS.basename(rel)).\(getpid()).\(UInt32.random(in: 0...UInt32.max))")
        let src = try FileHandleFD.openRead(local)
        let size = UInt64(try src.stat().st_size)
        let out = try FileHandleFD.create(tmp)
        do {
            try FS.copyRange(from: src, at: 0, count: size, to: out)
            FS.startWriteback(of: out)
        } catch {
            FS.remove(tmp)
            throw error
        }
        return Upload(tmp: tmp, dest: dest, file: out, size: size)
    }

    /// fsync, then rename into place: the remote sees whole files or none.
    func finish(_ u: Upload) throws {
        do {
            try u.file.sync()
            try FS.rename(u.tmp, u.dest)
        } catch {
            FS.remove(u.tmp)
            throw error
        }
    }

    /// Copies a file onto the remote atomically (temp name, fsync, rename).
    func upload(_ local: String, to rel: String) throws -> UInt64 {
        let u = try start(local, to: rel)
        try finish(u)
        return u.size
    }
}

public struct TransferResult: Codable, Sendable {
    public var remote: String
    public var packs: Int            // packs transferred
    public var bytes: UInt64         // bytes transferred
    public var alreadyThere: Int     // packs the other side had
    public var objects: Int          // objects the pointers need

    enum CodingKeys: String, CodingKey {
        case remote, packs, bytes, objects
        case alreadyThere = "already_there"
    }
}

extension Workspace {
    func remote(_ name: String?) throws -> DirectoryRemote {
        guard let n = name ?? config.defaultRemote ?? (config.remotes.count == 1 ? config.remotes.keys.first : nil) else {
            throw RemoteError.noRemote
        }
        guard let r = config.remotes[n] else { throw RemoteError.unknownRemote(n, known: config.remotes.keys.sorted()) }
        return try DirectoryRemote(name: n, url: r.url, base: root)
    }

    /// `mlv remote add`: the first remote becomes the default.
    public func addRemote(_ name: String, url: String, endpoint: String?, makeDefault: Bool) throws {
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw MLVError.invalidArgument("remote names use letters, digits, '-' and '_'")
        }
        _ = try DirectoryRemote(name: name, url: url, base: root)
        if config.remotes[name] != nil { throw MLVError.invalidArgument("remote \(name) exists; remove it first with `mlv remote remove \(name)`") }
        config.remotes[name] = RemoteSettings(url: url, endpoint: endpoint)
        if makeDefault || config.defaultRemote == nil { config.defaultRemote = name }
        try config.save(path: configPath)
        try git.stage(add: [Config.fileName])
    }

    public func removeRemote(_ name: String) throws {
        guard config.remotes[name] != nil else { throw RemoteError.unknownRemote(name, known: config.remotes.keys.sorted()) }
        config.remotes[name] = nil
        if config.defaultRemote == name { config.defaultRemote = config.remotes.keys.sorted().first }
        try config.save(path: configPath)
        try git.stage(add: [Config.fileName])
    }

    /// Snapshot roots the pointers hold: at the given revisions, or HEAD and the working tree.
    /// With `paths`, only targets at or below (or containing) those paths count.
    func pointerRoots(revs: [String], allCommits: Bool, paths: [String] = []) throws -> Set<ObjectID> {
        let wanted = try paths.map { try userPath($0) }
        func selected(_ t: String) -> Bool {
            wanted.isEmpty || wanted.contains { RepoPath.isWithin(t, $0) || RepoPath.isWithin($0, t) }
        }
        var roots = Set<ObjectID>()
        var commits: [GitOID] = try revs.map { try resolve($0) }
        if allCommits, let h = try git.head() { commits = try git.history(from: h) }
        if revs.isEmpty && !allCommits {
            if let h = try git.head() { commits.append(h) }
            for (t, p) in try targets() where selected(t) { if let s = p.snapshot { roots.insert(s) } }
        }
        for c in commits { for (t, p) in try targets(at: c) where selected(t) { if let s = p.snapshot { roots.insert(s) } } }
        if !wanted.isEmpty && roots.isEmpty {
            throw MLVError.notTracked(wanted.joined(separator: ", "))
        }
        return roots
    }

    /// Every object id below the roots (trees, manifests, chunks), from the local store.
    func closure(_ roots: Set<ObjectID>, store: Store) throws -> Set<ObjectID> {
        var seen = Set<ObjectID>()
        var stack = Array(roots)
        while let id = stack.popLast() {
            guard seen.insert(id).inserted else { continue }
            guard let loc = try store.location(of: id) else { throw StoreError.missingObject(id, type: .chunk) }
            switch loc.type {
            case .tree: for e in try store.tree(id).entries { stack.append(e.id) }
            case .file: for c in try store.manifest(id).chunks { seen.insert(c.id) }
            case .chunk: break
            }
        }
        return seen
    }

    /// `mlv push`: whole packs holding what the pointers need and the remote lacks, then one
    /// index for them (packs first: the remote never indexes a pack it does not have).
    public func push(remote name: String?, revs: [String], allCommits: Bool) throws -> TransferResult {
        let r = try remote(name)
        let lock = try self.lock("push") { _ in }
        defer { withExtendedLifetime(lock) {} }
        try r.prepare()
        let store = try store()
        try store.loadIndex()
        let objects = try closure(pointerRoots(revs: revs, allCommits: allCommits), store: store)
        var needed = Set<ObjectID>()
        for id in objects { if let p = try store.pack(of: id) { needed.insert(p) } }
        let indexed = try r.indexedPacks()
        let files = try r.packs()
        // Needed packs no remote index lists: upload those not there as files, then index all.
        let unindexed = needed.subtracting(indexed).sorted()
        let missing = unindexed.filter { !files.contains($0) }
        var result = TransferResult(remote: r.name, packs: 0, bytes: 0, alreadyThere: needed.count - missing.count, objects: objects.count)
        var uploads: [DirectoryRemote.Upload] = []
        let total = try missing.reduce(UInt64(0)) { $0 + UInt64(try FileHandleFD.openRead(store.packPath($1)).stat().st_size) }
        for p in missing {
            let u = try r.start(store.packPath(p), to: "packs/\(p.hex.prefix(2))/\(p.hex).pack")
            uploads.append(u)
            if uploads.count >= 16 { try r.finish(uploads.removeFirst()) }   // bounded open files
            result.bytes += u.size
            result.packs += 1
            progress?("pushing to \(r.name)", min(result.bytes, total), total)
        }
        for u in uploads { try r.finish(u) }
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
        let lock = try self.lock("fetch") { _ in }
        defer { withExtendedLifetime(lock) {} }
        guard FS.isDirectory(r.root) else { throw RemoteError.unreachable(remote: r.name, why: "\(r.root) does not exist") }
        let store = try store()
        try store.loadIndex()
        // The remote's indexes: object -> remote pack.
        var where_: [ObjectID: ObjectID] = [:]
        for n in try r.indexNames() {
            let path = FS.join(r.root, "index/\(n)")
            let bytes = try FS.readAll(path)
            guard ObjectID.hash(bytes).hex + ".idx" == n else {
                throw RemoteError.unreachable(remote: r.name, why: "index \(n) does not match its name (damaged); not used")
            }
            let idx = try decodeIndex(bytes, path: path)
            for (id, p, _) in idx.entries { where_[id] = idx.packs[p] }
        }
        var result = TransferResult(remote: r.name, packs: 0, bytes: 0, alreadyThere: 0, objects: 0)
        var pending = Array(try pointerRoots(revs: revs, allCommits: false, paths: paths))
        var seen = Set<ObjectID>()
        var missing = 0
        while !pending.isEmpty {
            // Download the packs for everything pending that is not here yet.
            var packs = Set<ObjectID>()
            for id in pending where try !store.contains(id) {
                if let p = where_[id] { packs.insert(p) } else { missing += 1 }
            }
            let roundTotal = packs.reduce(UInt64(0)) { $0 + UInt64(FS.lstat(r.packPath($1))?.st_size ?? 0) }
            var roundDone: UInt64 = 0
            for p in packs.sorted() {
                let tmp = FS.join(store.tmpDir, "fetch-\(getpid())-\(p.hex).pack")
                let src = try FileHandleFD.openRead(r.packPath(p))
                let size = UInt64(try src.stat().st_size)
                let out = try FileHandleFD.create(tmp)
                do {
                    try FS.copyRange(from: src, at: 0, count: size, to: out)
                    try out.sync()
                    let check = try FileHandleFD.openRead(tmp)
                    guard try computePackID(check) == p else {
                        throw StoreError.corruptPack(path: r.packPath(p), offset: 0, why: "its content does not match its name")
                    }
                    let entries = try verifyPack(check)
                    try store.adopt(packFile: tmp, id: p, entries: entries)
                } catch {
                    FS.remove(tmp)
                    throw error
                }
                result.packs += 1
                result.bytes += size
                roundDone += size
                progress?("fetching from \(r.name)", min(roundDone, roundTotal), roundTotal)
            }
            // What a remote index promised but its pack did not hold is missing too.
            for id in pending where where_[id] != nil {
                if try !store.contains(id) { missing += 1 }
            }
            // Walk one level down.
            var next: [ObjectID] = []
            for id in pending where seen.insert(id).inserted {
                guard let loc = try store.location(of: id) else { continue }
                switch loc.type {
                case .tree: next += try store.tree(id).entries.map(\.id)
                case .file: next += try store.manifest(id).chunks.map(\.id)
                case .chunk: break
                }
            }
            pending = next.filter { !seen.contains($0) }
        }
        result.objects = seen.count
        if missing > 0 { throw RemoteError.missingOnRemote(remote: r.name, count: missing) }
        return result
    }
}
