// Prune — the store's half of gc (restic's prune.go): given the live objects (the caller
// finds them from its roots), delete packs holding nothing live, rewrite packs mostly dead
// (live objects copied as stored, not recompressed), and replace all indexes by one.
// Order: new packs, the new index, then deletions, all under the caller's lock, so a crash
// leaves at worst extra files.
import MLVSystem

public struct PrunePlan: Sendable {
    public var delete: [ObjectID] = []
    public var repack: [(ObjectID, [PackedEntry])] = []
    public var keep: [ObjectID] = []
    /// Stored bytes (entry headers included) the plan frees.
    public var bytesFreed: UInt64 = 0
    public var isEmpty: Bool { delete.isEmpty && repack.isEmpty }
}

extension Store {
    /// Bytes an entry takes in its pack.
    static func footprint(_ e: PackedEntry) -> UInt64 { UInt64(e.storedLength) + UInt64(PackFormat.entryHeaderSize) }

    /// What pruning to `live` would do: a pack with no live object goes; one whose live
    /// objects fill less than half of it is repacked; the rest stay. A pack that stays keeps
    /// its dead objects too, so the bases of its dead deltas stay as well (the plan is made
    /// again with them live until nothing more is needed): every pack left is readable whole.
    public func planPrune(live: Set<ObjectID>) throws -> PrunePlan {
        var live = live
        while true {
            let plan = try planPrune(exactly: live)
            var dead: [ObjectID] = []
            for (_, es) in try entries(inPacks: Set(plan.keep)) {
                for e in es where e.encoding == .delta && !live.contains(e.id) { dead.append(e.id) }
            }
            let more = try bases(below: dead).subtracting(live)
            if more.isEmpty { return plan }
            live.formUnion(more)
        }
    }

    private func planPrune(exactly live: Set<ObjectID>) throws -> PrunePlan {
        var plan = PrunePlan()
        for (pack, es) in try entries(inPacks: Set(try knownPacks())) {
            let total = es.reduce(UInt64(0)) { $0 + Store.footprint($1) }
            let liveEntries = es.filter { live.contains($0.id) }
            let liveBytes = liveEntries.reduce(UInt64(0)) { $0 + Store.footprint($1) }
            if liveEntries.isEmpty { plan.delete.append(pack); plan.bytesFreed += total }
            else if liveBytes * 2 < total { plan.repack.append((pack, liveEntries)); plan.bytesFreed += total - liveBytes }
            else { plan.keep.append(pack) }
        }
        return plan
    }

    /// Objects of `ids` the indexes list, and the stored bytes they take.
    public func footprint(of ids: Set<ObjectID>) throws -> (objects: Int, bytes: UInt64) {
        var out = (objects: 0, bytes: UInt64(0))
        for (_, es) in try entries(inPacks: Set(try knownPacks())) {
            for e in es where ids.contains(e.id) {
                out.objects += 1
                out.bytes += Store.footprint(e)
            }
        }
        return out
    }

    /// Carries out `plan`. The caller holds the lock.
    public func prune(_ plan: PrunePlan, compressionLevel: Int32) throws {
        guard !plan.isEmpty else { return }
        // 1. Live objects of mostly-dead packs into new packs (and their index).
        let writer = try self.writer(compressionLevel: compressionLevel)
        for (_, es) in plan.repack {
            for e in es {
                guard let (loc, data) = try storedBytes(e.id) else { continue }
                try data.withUnsafeBytes { try writer.add(id: e.id, type: loc.type, encoding: loc.encoding, depth: loc.depth, rawLength: Int(loc.rawLength), data: $0) }
            }
        }
        try writer.commit()
        // 2. One index for everything that stays (the writer's own is folded into it); only
        // then every other index, and 3. the packs nothing indexes any more.
        let gone = Set(plan.delete + plan.repack.map(\.0))
        try replaceIndexes(with: try entries(inPacks: Set(try knownPacks()).subtracting(gone)))
        for p in gone { FS.remove(packPath(p)) }
    }
}
