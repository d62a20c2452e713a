import MLVSystem
import Foundation
import MLVGit
import MLVStore

public struct GCResult: Codable, Sendable {
    public var dryRun: Bool
    public var liveObjects: Int
    public var packsDeleted: Int
    public var packsRepacked: Int
    public var packsKept: Int
    public var bytesFreed: UInt64
    /// Files in the history that end in `.mlv` but are not valid pointers: reported, skipped.
    public var skippedPointers: [String] = []
    /// What is kept only because a reflog or the stash still reaches it.
    public var keptForReflogOrStash = KeptForLogs()

    public struct KeptForLogs: Codable, Sendable {
        /// Snapshots no branch, tag, remote-tracking ref or working state needs.
        public var snapshots = 0
        /// The objects (trees, manifests, chunks) only they hold, and their stored bytes.
        public var objects = 0
        public var bytes: UInt64 = 0
        /// The refs whose logs reach them (`refs/stash` for stash entries).
        public var refs: [String] = []
        /// The command that lets them go (it forgets every reflog entry and stash entry).
        public var command = "git reflog expire --expire=now --all && git stash clear && mlv gc"
    }

    enum CodingKeys: String, CodingKey {
        case skippedPointers = "skipped_pointers"
        case keptForReflogOrStash = "kept_for_reflog_or_stash"
        case dryRun = "dry_run"
        case liveObjects = "live_objects"
        case packsDeleted = "packs_deleted"
        case packsRepacked = "packs_repacked"
        case packsKept = "packs_kept"
        case bytesFreed = "bytes_freed"
    }
}

extension Workspace {
    /// Snapshots that must survive a gc: pointers in every commit reachable from any ref
    /// (branches, tags, remote-tracking refs, stash) or still in a reflog, the working pointers, what mlv last
    /// wrote (stat cache), work saved by `checkout --force`, and the run cache's outputs.
    /// `logs` holds those kept only because a reflog or the stash reaches a commit that pins
    /// them, with the refs whose logs do; `roots` the rest.
    func liveRoots(skipped: inout [String]) throws -> (roots: Set<ObjectID>, logs: [ObjectID: Set<String>]) {
        var roots = Set<ObjectID>()
        let commits = try git.reachableCommitsBySource()
        for c in commits.fromRefs {
            for (_, p) in try readableTargets(at: c, skipped: &skipped) { if let s = p.snapshot { roots.insert(s) } }
        }
        for (_, p) in try targets() { if let s = p.snapshot { roots.insert(s) } }
        let cache = loadStatCache()
        roots.formUnion(cache.synced.values)
        roots.formUnion(cache.verified.values)
        roots.formUnion(savedSnapshots())
        for name in (try? FS.list(runCacheDir)) ?? [] {
            guard let bytes = try? FS.readAll(FS.join(runCacheDir, name)),
                  let r = RunRecord(json: bytes) else { continue }
            for id in r.outputs.values { if let o = ObjectID(hex: id) { roots.insert(o) } }
        }
        var logs: [ObjectID: Set<String>] = [:]
        for (c, via) in commits.onlyFromLogs {
            for (_, p) in try readableTargets(at: c, skipped: &skipped) {
                if let s = p.snapshot, !roots.contains(s) { logs[s, default: []].formUnion(via) }
            }
        }
        return (roots, logs)
    }

    /// Like `closure`, but skips what the store does not have (data never fetched here).
    /// Objects in `known` are taken as already walked (with everything below them).
    func liveClosure(_ roots: Set<ObjectID>, store: Store, known: Set<ObjectID> = []) throws -> Set<ObjectID> {
        var seen = known
        var stack = Array(roots)
        while let id = stack.popLast() {
            guard seen.insert(id).inserted, let loc = try store.location(of: id) else { continue }
            switch loc.type {
            case .tree: stack += try store.tree(id).entries.map(\.id)
            case .file: for c in try store.manifest(id).chunks { seen.insert(c.id) }
            case .chunk: break
            }
        }
        return seen
    }

    /// `mlv gc`: deletes packs holding only unreachable objects, rewrites packs that are
    /// mostly unreachable (live objects copied as stored, not recompressed), and replaces all
    /// indexes by one. Order: new packs, the new index, then deletions, all under the lock, so
    /// a concurrent commit waits and a crash leaves at worst extra files.
    public func gc(dryRun: Bool) throws -> GCResult {
        let lock = try self.lock("gc") { _ in }
        defer { withExtendedLifetime(lock) {} }
        let store = try store()
        if !dryRun { removeStaleTemporaries(store.tmpDir) }
        try store.loadIndex()
        var skipped: [String] = []
        let (roots, logs) = try liveRoots(skipped: &skipped)
        let needed = try liveClosure(roots, store: store)
        let live = try liveClosure(Set(logs.keys), store: store, known: needed)
        let onlyLogs = live.subtracting(needed)
        let all = try store.knownPacks()
        let entries = try store.entries(inPacks: Set(all))
        var kept = GCResult.KeptForLogs()
        // Snapshots this store holds (one never fetched here frees nothing).
        let held = try logs.filter { try onlyLogs.contains($0.key) && store.location(of: $0.key) != nil }
        kept.snapshots = held.count
        kept.refs = Set(held.values.flatMap { $0 }).sorted()
        for (_, es) in entries {
            for e in es where onlyLogs.contains(e.id) {
                kept.objects += 1
                kept.bytes += UInt64(e.storedLength) + UInt64(PackFormat.entryHeaderSize)
            }
        }
        var delete: [ObjectID] = [], repack: [(ObjectID, [PackedEntry])] = [], keep: [ObjectID] = []
        var freed: UInt64 = 0
        for (pack, es) in entries {
            let total = es.reduce(UInt64(0)) { $0 + UInt64($1.storedLength) + UInt64(PackFormat.entryHeaderSize) }
            let liveEntries = es.filter { live.contains($0.id) }
            let liveBytes = liveEntries.reduce(UInt64(0)) { $0 + UInt64($1.storedLength) + UInt64(PackFormat.entryHeaderSize) }
            if liveEntries.isEmpty { delete.append(pack); freed += total }
            else if liveBytes * 2 < total { repack.append((pack, liveEntries)); freed += total - liveBytes }
            else { keep.append(pack) }
        }
        var result = GCResult(dryRun: dryRun, liveObjects: live.count, packsDeleted: delete.count,
                              packsRepacked: repack.count, packsKept: keep.count, bytesFreed: freed,
                              skippedPointers: skipped, keptForReflogOrStash: kept)
        if dryRun || (delete.isEmpty && repack.isEmpty) { return result }
        // 1. Live objects of mostly-dead packs into new packs (and their index).
        let writer = try store.writer(compressionLevel: Int32(config.compressionLevel))
        for (_, es) in repack {
            for e in es {
                guard let (loc, data) = try store.storedBytes(e.id) else { continue }
                try data.withUnsafeBytes { try writer.add(id: e.id, type: loc.type, encoding: loc.encoding, rawLength: Int(loc.rawLength), data: $0) }
            }
        }
        try writer.commit()
        // 2. One index for everything that stays.
        let gone = Set(delete + repack.map(\.0))
        let remaining = try store.entries(inPacks: Set(try store.knownPacks()).subtracting(gone))
        let bytes = encodeIndex(packs: remaining)
        let name = indexFileName(bytes)
        try FS.atomicWrite(bytes, to: FS.join(store.indexDir, name))
        // 3. Only now: every other index (the writer's own is folded into the new one), then
        // the packs nothing indexes any more. The lock keeps other writers out meanwhile.
        for n in try store.indexFileNames() where n != name {
            FS.remove(FS.join(store.indexDir, n))
        }
        try FS.syncDirectory(store.indexDir)
        for p in gone { FS.remove(store.packPath(p)) }
        result.bytesFreed = freed
        return result
    }
}
