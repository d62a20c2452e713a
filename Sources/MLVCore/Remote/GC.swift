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
    /// `--aggressive`: every live object rewritten, chunks re-encoded as deltas (`Store.repack`).
    public var repack: Repacked?
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

    public struct Repacked: Codable, Sendable {
        public var packsBefore: Int
        public var packsAfter: Int
        public var bytesBefore: UInt64
        public var bytesAfter: UInt64
        public var objects: Int
        public var deltas: Int

        enum CodingKeys: String, CodingKey {
            case packsBefore = "packs_before"
            case packsAfter = "packs_after"
            case bytesBefore = "bytes_before"
            case bytesAfter = "bytes_after"
            case objects, deltas
        }
    }

    enum CodingKeys: String, CodingKey {
        case repack
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
    ///
    /// `aggressive`: instead of pruning, every live object is rewritten into new packs, each
    /// file's versions as deltas against the one before (`Store.repack`), at
    /// compression level `level` (default: `aggressiveLevel`).
    public func run(dryRun: Bool, aggressive: Bool = false, level: Int? = nil) throws -> GCResult {
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
        var result = GCResult(dryRun: dryRun, liveObjects: live.count, packsDeleted: plan.delete.count,
                              packsRepacked: plan.repack.count, packsKept: plan.keep.count, bytesFreed: plan.bytesFreed,
                              skippedPointers: skipped, keptForReflogOrStash: kept)
        if dryRun { return result }
        guard aggressive else {
            try store.prune(plan, compressionLevel: Int32(ws.config.compressionLevel))
            return result
        }
        let r = try store.repack(live: live, histories: try histories(store), level: Int32(level ?? GC.aggressiveLevel)) {
            ws.progress?("repacking", UInt64($0), UInt64($1))
        }
        result.repack = .init(packsBefore: r.packsBefore, packsAfter: r.packsAfter, bytesBefore: r.bytesBefore,
                              bytesAfter: r.bytesAfter, objects: r.objects, deltas: r.deltas)
        result.bytesFreed = r.bytesBefore > r.bytesAfter ? r.bytesBefore - r.bytesAfter : 0
        result.packsDeleted = r.packsRemoved
        result.packsRepacked = 0
        result.packsKept = 0
        return result
    }

    /// zstd level of `gc --aggressive`. Measured on Tests/Benchmarks/history.py's 60 versions
    /// (2 cores): the recomputed-column history takes 35.7 MB at level 1 (5 s), 26.4 MB at 9
    /// (10 s), 17.3 MB at 19 (57 s); 9 is most of the gain at a time that scales to
    /// gigabytes of history. `--level 19` is there for the rest.
    public static let aggressiveLevel = 9

    /// Each file's versions along HEAD's history, newest first: the working pointers', then
    /// each commit's in the order `History` walks them, a repeated version listed once. Files
    /// of folder targets by their path inside the target.
    private func histories(_ store: Store) throws -> [[ObjectID]] {
        var byPath: [String: [ObjectID]] = [:]
        var order: [String] = []
        var seenSnapshots = Set<ObjectID>()
        func add(_ path: String, _ m: ObjectID) {
            if byPath[path] == nil { order.append(path) }
            if byPath[path]?.last != m { byPath[path, default: []].append(m) }
        }
        func visit(_ target: String, _ p: Pointer) throws {
            guard let s = p.snapshot, seenSnapshots.insert(s).inserted || p.type == .file,
                  try store.location(of: s) != nil else { return }
            if p.type == .file { add(target, s); return }
            var stack: [(String, ObjectID)] = [(target, s)]
            while let (path, id) = stack.popLast() {
                guard try store.location(of: id) != nil else { continue }
                for e in try store.tree(id).entries {
                    let child = path + "/" + e.name
                    switch e.kind {
                    case .file: add(child, e.id)
                    case .directory: stack.append((child, e.id))
                    case .symlink: break
                    }
                }
            }
        }
        for (t, p) in try ws.targets() { try visit(t, p) }
        var skipped: [String] = []
        if let head = try ws.git.head() {
            for c in try ws.git.history(from: head) {
                for (t, p) in try ws.readableTargets(at: c, skipped: &skipped) { try visit(t, p) }
            }
        }
        return order.compactMap { byPath[$0] }
    }
}