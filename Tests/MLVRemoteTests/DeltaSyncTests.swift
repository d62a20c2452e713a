// Deltas through push and fetch (`Sync`, in-memory transport): a pack travels with the packs
// of its deltas' bases, a fetch brings those in further rounds and checks every delta, and a
// remote missing a base is refused, never half adopted.
import MLVSystem
import MLVTestSupport
import Testing
import MLVRemote
import MLVStore

@Suite struct DeltaSyncTests {
    /// Text with a line inserted every 20 lines per version: every chunk changes a little.
    static func text(_ version: Int) -> [UInt8] {
        var out = "key,value\n"
        for i in 0..<6000 {
            out += "k\(i),\(i * 7919 % 10007)\n"
            if i % 20 == 0 { for v in 0..<version { out += "k\(i)-v\(v),\(v)\n" } }
        }
        return Array(out.utf8)
    }

    /// Two versions, one pack each, the second stored as deltas against the first.
    static func twoVersions() throws -> (Store, v2: ObjectID, p1: ObjectID, p2: ObjectID) {
        let store = try Store(root: scratchDirectory("delta-sync"))
        var previous: ObjectID? = nil
        for v in 1...2 {
            let path = scratchDirectory("delta-sync-src") + "/f"
            try FS.atomicWrite(text(v), to: path)
            let w = try store.writer(compressionLevel: 1)
            previous = try Archiver(writer: w).archiveFile(at: path, previous: previous).id
            try w.commit()
        }
        let v2 = previous!
        let m = try store.manifest(v2)
        #expect(try m.chunks.contains { try store.location(of: $0.id)?.encoding == .delta })
        let p2 = try #require(try store.pack(of: v2))
        let p1 = try #require(try store.knownPacks().first { $0 != p2 })
        return (store, v2, p1, p2)
    }

    static func read(_ store: Store, _ manifest: ObjectID) throws -> [UInt8] {
        let reader = ChunkReader(store: store)
        var out: [UInt8] = []
        for c in try store.manifest(manifest).chunks {
            var buf = [UInt8](repeating: 0, count: Int(c.length))
            try buf.withUnsafeMutableBytes { try reader.read(c.id, into: $0) }
            out += buf
        }
        return out
    }

    @Test func aPushedPackBringsItsBasesAndAFetchReadsIt() throws {
        let (local, v2, _, p2) = try Self.twoVersions()
        let remote = MemoryTransport()
        let needed = try local.closedUnderBases([p2])
        #expect(needed.count == 2)
        _ = try Sync.push(local, needed: needed, indexed: [], to: remote)
        let clone = try Store(root: scratchDirectory("delta-sync-clone"))
        var packOf: [ObjectID: ObjectID] = [:]
        for idx in try Sync.indexes(of: remote, store: clone, cacheDir: FS.join(clone.root, "cache"), strict: true) {
            for (id, n, _) in idx.entries { packOf[id] = idx.packs[n] }
        }
        // Asked for v2's pack alone: the base pack comes in a second round.
        _ = try Sync.fetch([p2], sizes: try remote.packFiles(), from: remote, into: clone, packOf: { packOf[$0] })
        #expect(try clone.knownPacks().count == 2)
        #expect(try Self.read(clone, v2) == Self.text(2))
        #expect(try clone.verify().problems.isEmpty)
    }

    @Test func aRemoteWithoutTheBaseIsRefusedAndNothingIsAdopted() throws {
        let (local, _, _, p2) = try Self.twoVersions()
        let remote = MemoryTransport()
        _ = try Sync.push(local, needed: [p2], indexed: [], to: remote)   // not closed: the base pack stays home
        let clone = try Store(root: scratchDirectory("delta-sync-clone"))
        #expect(throws: TransportError.self) {
            try Sync.fetch([p2], sizes: try remote.packFiles(), from: remote, into: clone)
        }
        #expect(try clone.knownPacks().isEmpty)
        #expect(try FS.list(clone.tmpDir).isEmpty)
    }
}
