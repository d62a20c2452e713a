// A delta's bases are live with it, whole packs at a time: what push sends
// (`closedUnderBases`), what gc keeps when a pack it keeps holds dead deltas, and what
// `gc --aggressive` (`Store.repack`) writes: never bigger, every version readable.
import Foundation
import MLVSystem
import MLVTestSupport
import Testing
@testable import MLVStore

@Suite struct DeltaLivenessTests {
    /// v1 in one pack, v2 (deltas against v1) in another.
    func twoPacks() throws -> (Store, v1: ObjectID, v2: ObjectID, p1: ObjectID, p2: ObjectID) {
        let store = try Store(root: tempDir("delta-live"))
        let a = try archive(store, timeSeriesCSV(version: 1, keys: 40, base: 60))
        let b = try archive(store, timeSeriesCSV(version: 2, keys: 40, base: 60), previous: a.id)
        let p1 = try #require(try store.pack(of: a.id)), p2 = try #require(try store.pack(of: b.id))
        #expect(p1 != p2)
        #expect(try b.chunks.contains { try store.location(of: $0.id)?.encoding == .delta })
        return (store, a.id, b.id, p1, p2)
    }

    @Test func aPackComesWithThePacksOfItsBases() throws {
        let (store, _, _, p1, p2) = try twoPacks()
        #expect(try store.closedUnderBases([p2]) == [p1, p2])
        #expect(try store.closedUnderBases([p1]) == [p1])
    }

    /// A pack gc keeps holds dead objects too; a dead delta's base must not go with a pack
    /// gc deletes, or the kept pack could no longer be read whole (fsck, fetch elsewhere).
    @Test func gcKeepsTheBasesOfDeadDeltasInAKeptPack() throws {
        let store = try Store(root: tempDir("delta-live"))
        let v1 = try archive(store, timeSeriesCSV(version: 1, keys: 40, base: 60))
        // One session: v2 (deltas against v1, dead below) and a big live file.
        let dir = tempDir("delta-live-src")
        writeFile(dir + "/v2", timeSeriesCSV(version: 2, keys: 40, base: 60))
        var noise = Mix(9)
        writeFile(dir + "/big", (0..<(1 << 21)).map { _ in UInt8(truncatingIfNeeded: noise.next()) })
        let w = try store.writer(compressionLevel: 1)
        let a = Archiver(writer: w, level: 1)
        let v2 = try a.archiveFile(at: dir + "/v2", previous: v1.id)
        let big = try a.archiveFile(at: dir + "/big")
        try w.commit()
        let p1 = try #require(try store.pack(of: v1.id)), p2 = try #require(try store.pack(of: big.id))
        #expect(try store.pack(of: v2.id) == p2)
        let live = try store.walk(from: [big.id])
        let plan = try store.planPrune(live: live)
        #expect(plan.keep.contains(p2))
        #expect(!plan.delete.contains(p1), "the bases of v2's dead deltas would go")
        try store.prune(plan, compressionLevel: 1)
        let after = try Store(root: store.root)
        #expect(try after.verify().problems.isEmpty)
        #expect(try readBack(after, v2.id) == timeSeriesCSV(version: 2, keys: 40, base: 60))
    }

    /// A store written without deltas comes out smaller, object by object never bigger,
    /// every version reading back exactly; a second repack changes nothing much.
    @Test func repackNeverMakesAnObjectBigger() throws {
        let store = try Store(root: tempDir("delta-live"))
        var versions: [(ObjectID, [UInt8])] = []
        for v in 1...6 {
            let bytes = timeSeriesCSV(version: v, keys: 40, base: 60)
            versions.append((try archive(store, bytes).id, bytes))   // no previous: no deltas
        }
        try store.loadIndex()
        let live = try store.walk(from: versions.map(\.0))
        var before: [ObjectID: UInt32] = [:]
        for id in live { before[id] = try #require(try store.location(of: id)).storedLength }
        let r = try store.repack(live: live, histories: [versions.map(\.0).reversed()], level: 9)
        #expect(r.bytesAfter * 2 < r.bytesBefore, "\(r.bytesBefore) -> \(r.bytesAfter)")
        #expect(r.deltas > 0)
        let after = try Store(root: store.root)
        for id in live {
            let loc = try #require(try after.location(of: id))
            #expect(loc.storedLength <= before[id]!, "\(id.short) grew")
            #expect(loc.depth <= DeltaEncoder.chainLimit)
        }
        for (id, bytes) in versions { #expect(try readBack(after, id) == bytes) }
        #expect(try after.verify().problems.isEmpty)
        let again = try after.repack(live: live, histories: [versions.map(\.0).reversed()], level: 9)
        #expect(again.bytesAfter <= again.bytesBefore)
    }

    /// A killed fetch can leave packs placed but not indexed, their deltas' bases in each
    /// other: garbage, not damage. fsck decodes them through every pack file present, and
    /// a base found nowhere is a problem only in a pack an index lists.
    @Test func unindexedPacksWithEachOthersBasesAreNoProblem() throws {
        let (store, _, _, _, p2) = try twoPacks()
        for n in try store.indexFileNames() { FS.remove(FS.join(store.indexDir, n)) }
        #expect(try Store(root: store.root).verify().problems.isEmpty)
        // Without the base's pack, the unindexed delta pack is still garbage, not damage...
        let lone = try Store(root: tempDir("delta-live"))
        try FS.makeDirectories(FS.dirname(lone.packPath(p2)))
        try FS.atomicWrite(try FS.readAll(store.packPath(p2)), to: lone.packPath(p2))
        #expect(try Store(root: lone.root).verify().problems.isEmpty)
        // ...and once an index lists it, the missing base is found.
        try Store(root: lone.root).repairIndex()
        let problems = try Store(root: lone.root).verify().problems
        #expect(problems.contains { $0.problem.contains("is stored as a delta against chunk") }, "\(problems)")
    }
}
