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

    /// `mlv gc`: the live set from the roots, then the store's prune (`Store.planPrune`,
    /// `Store.prune`): packs holding only unreachable objects deleted, packs mostly
    /// unreachable rewritten, all indexes replaced by one, under the lock.
    public func gc(dryRun: Bool) throws -> GCResult {
        let lock = try self.lock("gc") { _ in }
        defer { withExtendedLifetime(lock) {} }
        let store = try store()
        if !dryRun { store.removeStaleTemporaries() }
        try store.loadIndex()
        var skipped: [String] = []
        let (roots, logs) = try liveRoots(skipped: &skipped)
        // What the store does not have (data never fetched here) is skipped.
        let needed = try store.walk(from: roots)
        let live = try store.walk(from: logs.keys, known: needed)
        let onlyLogs = live.subtracting(needed)
        var kept = GCResult.KeptForLogs()
        // Snapshots this store holds (one never fetched here frees nothing).
        let held = try logs.filter { try onlyLogs.contains($0.key) && store.location(of: $0.key) != nil }
        kept.snapshots = held.count
        kept.refs = Set(held.values.flatMap { $0 }).sorted()
        (kept.objects, kept.bytes) = try store.footprint(of: onlyLogs)
        let plan = try store.planPrune(live: live)
        let result = GCResult(dryRun: dryRun, liveObjects: live.count, packsDeleted: plan.delete.count,
                              packsRepacked: plan.repack.count, packsKept: plan.keep.count, bytesFreed: plan.bytesFreed,
                              skippedPointers: skipped, keptForReflogOrStash: kept)
        if !dryRun { try store.prune(plan, compressionLevel: Int32(config.compressionLevel)) }
        return result
    }
}