// `mlv gc` (`GC`) and its result: the live set from `Roots.live`, pruned by MLVStore's
// maintenance (`Store.planPrune`, `Store.prune`).
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

/// Garbage collection of the local store: what `Roots.live` keeps stays, the rest is pruned.
public struct GC {
    public let workspace: Workspace

    public init(_ workspace: Workspace) { self.workspace = workspace }

    private var ws: Workspace { workspace }

    /// `mlv gc`: the live set from the roots, then the store's prune (`Store.planPrune`,
    /// `Store.prune`): packs holding only unreachable objects deleted, packs mostly
    /// unreachable rewritten, all indexes replaced by one, under the lock.
    public func run(dryRun: Bool) throws -> GCResult {
        let lock = try ws.lock("gc") { _ in }
        defer { withExtendedLifetime(lock) {} }
        let store = try ws.store()
        if !dryRun { store.removeStaleTemporaries() }
        try store.loadIndex()
        var skipped: [String] = []
        let (roots, logs) = try Roots(ws).live(skipped: &skipped)
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
        if !dryRun { try store.prune(plan, compressionLevel: Int32(ws.config.compressionLevel)) }
        return result
    }
}